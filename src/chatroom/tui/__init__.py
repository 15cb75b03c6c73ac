"""The terminal client (Textual). Imports ``chatroom.client`` and ``chatroom.irc`` only."""
