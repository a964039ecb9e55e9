"""API keys and credentials: key formats, peppered hashes, and every way a header can be read."""

from __future__ import annotations

import base64

import pytest

from shared.apikeys import (
    generate_key,
    generate_langfuse_pair,
    hash_key,
    validate_scopes,
    verify_key,
)
from shared.credentials import Credential, read_credentials
from shared.errors import UnauthenticatedError


def test_keys_are_random_and_only_their_display_id_is_shown() -> None:
    first, second = generate_key(), generate_key()
    assert first.secret != second.secret
    assert first.secret.startswith("lo_") and len(first.secret) == 3 + 43
    assert first.secret.startswith(first.display_id) and len(first.display_id) == 11
    assert first.secret not in repr(first)
    pair = generate_langfuse_pair()
    assert pair.display_id.startswith("pk-lf-") and pair.secret.startswith("sk-lf-")
    assert pair.secret not in repr(pair)


def test_hash_depends_on_the_pepper_and_verifies() -> None:
    key = generate_key().secret
    stored = hash_key(key, "pepper-1")
    assert len(stored) == 32
    assert hash_key(key, "pepper-2") != stored
    assert verify_key(key, stored, "pepper-1")
    assert not verify_key(key, stored, "pepper-2")
    assert not verify_key(key + "x", stored, "pepper-1")


def test_scopes_are_checked() -> None:
    assert validate_scopes(("ingest", "read", "ingest")) == ("ingest", "read")
    with pytest.raises(ValueError, match="unknown scope"):
        validate_scopes(("ingest", "write"))
    with pytest.raises(ValueError, match="at least one"):
        validate_scopes(())


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], []),
        ([("Content-Type", "application/x-protobuf")], []),
        ([("Authorization", "Bearer lo_a")], [Credential("lo_a")]),
        ([("authorization", "bearer  lo_a ")], [Credential("lo_a")]),
        ([("X-Api-Key", "lo_a")], [Credential("lo_a")]),
        ([("Authorization", "Bearer lo_a"), ("x-api-key", "lo_a")], [Credential("lo_a")]),
        (
            [("Authorization", "Bearer lo_a"), ("x-api-key", "lo_b")],
            [Credential("lo_a"), Credential("lo_b")],
        ),
        ([("Authorization", basic("pk-lf-1:sk-lf-2"))], [Credential("sk-lf-2", "pk-lf-1")]),
        ([("Authorization", basic("pk:s:with:colons"))], [Credential("s:with:colons", "pk")]),
    ],
)
def test_credentials_are_read_from_every_header(
    headers: list[tuple[str, str]], expected: list[Credential]
) -> None:
    assert read_credentials(headers) == expected


@pytest.mark.parametrize(
    "header",
    [
        ("Authorization", "Token lo_a"),
        ("Authorization", "Bearer"),
        ("Authorization", "Basic"),
        ("Authorization", "Basic not-base64!"),
        ("Authorization", basic("no-colon")),
        ("Authorization", basic(":secret")),
        ("Authorization", basic("public:")),
        ("Authorization", "Basic " + base64.b64encode(b"\xff\xfe:x").decode()),
        ("x-api-key", ""),
        ("authorization-bin", b"\x00"),
    ],
)
def test_unusable_credentials_are_refused_not_skipped(header: tuple[str, str | bytes]) -> None:
    name, value = header
    if name == "authorization-bin":
        # Binary gRPC metadata is no credential; only a binary value under our names is refused.
        assert read_credentials([header]) == []
        with pytest.raises(UnauthenticatedError):
            read_credentials([("authorization", value)])
        return
    with pytest.raises(UnauthenticatedError) as caught:
        read_credentials([("x-api-key", "lo_ok"), header])
    assert "lo_a" not in str(caught.value)
