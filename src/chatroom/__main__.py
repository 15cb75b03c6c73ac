"""``python -m chatroom`` is the ``chatroom`` command."""

from chatroom.cli import main

raise SystemExit(main())
