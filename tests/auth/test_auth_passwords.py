"""argon2id hashing and SCRAM verifier derivation."""

from __future__ import annotations

import pytest

from chatroom.server.auth.passwords import (
    Argon2Params,
    PasswordHasher,
    fast_params_for_tests,
    make_scram_verifier,
    parse_scram_verifier,
)

FAST = PasswordHasher(fast_params_for_tests())


def test_default_params_are_the_owasp_minimum() -> None:
    assert Argon2Params() == Argon2Params(memory_kib=19456, time_cost=2, parallelism=1)
    assert PasswordHasher().params == Argon2Params()


def test_hash_is_an_argon2id_phc_string_with_the_params() -> None:
    hashed = FAST.hash("hunter2")
    assert hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert "hunter2" not in hashed


def test_right_password_verifies() -> None:
    assert FAST.verify(FAST.hash("correct horse"), "correct horse")


def test_wrong_password_does_not_verify() -> None:
    assert not FAST.verify(FAST.hash("correct horse"), "battery staple")


@pytest.mark.parametrize("bad", ["", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$broken"])
def test_invalid_hash_is_a_plain_no(bad: str) -> None:
    assert not FAST.verify(bad, "anything")


def test_same_password_hashes_differently_each_time() -> None:
    assert FAST.hash("pw") != FAST.hash("pw")


def test_equivalent_unicode_spellings_are_the_same_password() -> None:
    composed = "caf\u00e9"
    decomposed = "cafe\u0301"
    assert FAST.verify(FAST.hash(composed), decomposed)


def test_hash_made_with_other_params_needs_rehash() -> None:
    old = FAST.hash("pw")
    stronger = PasswordHasher(Argon2Params(memory_kib=16, time_cost=1, parallelism=1))
    assert stronger.needs_rehash(old)
    assert not FAST.needs_rehash(old)
    assert FAST.needs_rehash("garbage")


def test_scram_verifier_round_trips() -> None:
    salt = b"0123456789abcdef"
    text = make_scram_verifier("pencil", iterations=4096, salt=salt)
    verifier = parse_scram_verifier(text)
    assert text.startswith("SCRAM-SHA-256$4096:")
    assert verifier.salt == salt
    assert verifier.iterations == 4096
    assert verifier.serialize() == text


def test_fresh_scram_verifiers_get_fresh_salts() -> None:
    first = parse_scram_verifier(make_scram_verifier("pw"))
    second = parse_scram_verifier(make_scram_verifier("pw"))
    assert first.salt != second.salt
    assert first.iterations == 4096


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "SCRAM-SHA-1$4096:c2FsdA==$a2V5:a2V5",
        "SCRAM-SHA-256$x:c2FsdA==$a2V5:a2V5",
        "SCRAM-SHA-256$4096:c2FsdA==$a2V5",
        "SCRAM-SHA-256$4096:!!$a2V5:a2V5",
        "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5",  # keys too short
        "SCRAM-SHA-256$4096:c2FsdA==$\u00e9:a2V5",
    ],
)
def test_malformed_scram_verifier_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="SCRAM"):
        parse_scram_verifier(bad)
