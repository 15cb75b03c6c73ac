"""Case mappings: which names are the same name."""

from __future__ import annotations

import pytest

from chatroom.irc.casemap import CaseMapping, casefold, casefolder


@pytest.mark.parametrize(
    ("mapping", "name", "folded"),
    [
        (CaseMapping.ASCII, "NiCk", "nick"),
        (CaseMapping.ASCII, "[Foo]\\~", "[foo]\\~"),
        (CaseMapping.ASCII, "ÉCOLE", "École"),
        (CaseMapping.RFC1459, "NiCk", "nick"),
        (CaseMapping.RFC1459, "[Foo]\\~", "{foo}|^"),
        (CaseMapping.RFC1459, "{already}|^", "{already}|^"),
        (CaseMapping.RFC1459, "#Chan", "#chan"),
    ],
)
def test_casefold(mapping: CaseMapping, name: str, folded: str) -> None:
    assert casefold(name, mapping) == folded
    assert casefolder(mapping)(name) == folded


def test_mapping_value_is_the_isupport_token() -> None:
    assert CaseMapping("rfc1459") is CaseMapping.RFC1459
    assert f"CASEMAPPING={CaseMapping.ASCII}" == "CASEMAPPING=ascii"
