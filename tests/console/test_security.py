"""Password hashing (scrypt) and tokens."""

from __future__ import annotations

from bot.console.config import ConsoleSettings
from bot.console.security import hash_password, verify_password

PARAMS = {"key": "0123456789abcdef", "sender_id": "conv-lost-1", "id": "1"}


def test_passwords_are_stored_as_scrypt_hashes(settings: ConsoleSettings) -> None:
    stored = hash_password("Correct-Horse-1")  # default cost: N=2**17
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**17), "8", "1")
    assert verify_password("Correct-Horse-1", stored)
    assert not verify_password("Correct-Horse-2", stored)
    assert hash_password("Correct-Horse-1") != stored  # salted
    assert not verify_password("x", "plain-text")
