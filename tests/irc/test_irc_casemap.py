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


@pytest.mark.parametrize("mapping", list(CaseMapping))
def test_folding_a_name_again_gives_the_same_answer(mapping: CaseMapping) -> None:
    fold = casefolder(mapping)
    for _ in range(3):  # first fold, then the remembered one
        assert fold("#Chan[1]") == casefold("#chan[1]", mapping)
        assert fold("Nick\\Away") == (
            "nick|away" if mapping is CaseMapping.RFC1459 else "nick\\away"
        )


@pytest.mark.parametrize("mapping", list(CaseMapping))
def test_remembered_names_stay_bounded_however_many_are_folded(mapping: CaseMapping) -> None:
    from chatroom.irc import casemap

    fold = casefolder(mapping)
    remembered = casemap._ascii_folded if mapping is CaseMapping.ASCII else casemap._rfc1459_folded
    for i in range(3 * casemap._REMEMBERED):
        assert fold(f"#Room{i}") == f"#room{i}"
    assert len(remembered) <= casemap._REMEMBERED
    long_name = "#" + "X" * casemap._REMEMBERED_LENGTH
    assert fold(long_name) == long_name.lower()
    assert long_name not in remembered  # a long name is folded each time, never kept
