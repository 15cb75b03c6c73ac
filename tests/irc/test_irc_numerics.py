"""Numeric constants: well-formed and spelled as the docs do."""

from __future__ import annotations

import pytest

from chatroom.irc import numerics


def all_numerics() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(numerics).items()
        if name.startswith(("RPL_", "ERR_")) and isinstance(value, str)
    }


def test_every_numeric_is_three_digits() -> None:
    for name, value in all_numerics().items():
        assert len(value) == 3, name
        assert value.isdigit(), name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RPL_WELCOME", "001"),
        ("RPL_ISUPPORT", "005"),
        ("RPL_WHOISACCOUNT", "330"),
        ("RPL_WHOSPCRPL", "354"),
        ("ERR_INPUTTOOLONG", "417"),
        ("ERR_UNKNOWNCOMMAND", "421"),
        ("ERR_NOTREGISTERED", "451"),
        ("ERR_NEEDMOREPARAMS", "461"),
        ("ERR_BANLISTFULL", "478"),
        ("ERR_NOPRIVILEGES", "481"),
        ("ERR_CHANOPRIVSNEEDED", "482"),
        ("ERR_INVALIDKEY", "525"),
        ("RPL_WHOISSECURE", "671"),
        ("ERR_INVALIDMODEPARAM", "696"),
        ("RPL_HELPSTART", "704"),
        ("RPL_QUIETLIST", "728"),
        ("RPL_ENDOFQUIETLIST", "729"),
        ("RPL_MONONLINE", "730"),
        ("ERR_MONLISTFULL", "734"),
        ("RPL_LOGGEDIN", "900"),
        ("RPL_SASLMECHS", "908"),
    ],
)
def test_named_numeric(name: str, value: str) -> None:
    assert getattr(numerics, name) == value


def test_names_maps_numbers_back() -> None:
    assert numerics.NAMES["461"] == "ERR_NEEDMOREPARAMS"
    assert numerics.NAMES["396"] == "RPL_VISIBLEHOST"
