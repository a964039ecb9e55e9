"""The API key credentials a request carries: `Authorization: Bearer|Basic` and `x-api-key`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.errors import UnauthenticatedError

AUTHORIZATION = "authorization"
API_KEY = "x-api-key"


@dataclass(frozen=True, slots=True)
class Credential:
    """One presented key; Basic auth adds the public key it claims to belong to."""

    secret: str = field(repr=False)
    public_id: str | None = None


def read_credentials(headers: Iterable[tuple[str, str | bytes]]) -> list[Credential]:
    """Every distinct credential in the headers (or gRPC metadata), in order of appearance.

    A header that is present but unusable (an unknown scheme, an empty key, bad Basic encoding)
    raises UnauthenticatedError rather than being skipped: skipping it could let another header
    decide which project the request writes to.
    """
    found: list[Credential] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered not in (AUTHORIZATION, API_KEY):
            continue
        if not isinstance(value, str):
            raise UnauthenticatedError(f"the {lowered} header must be text")
        credential = _authorization(value) if lowered == AUTHORIZATION else _api_key(value)
        if credential not in found:
            found.append(credential)
    return found


def _api_key(value: str) -> Credential:
    secret = value.strip()
    if not secret:
        raise UnauthenticatedError("the x-api-key header is empty")
    return Credential(secret)


def _authorization(value: str) -> Credential:
    scheme, _, rest = value.strip().partition(" ")
    rest = rest.strip()
    if scheme.lower() == "bearer" and rest:
        return Credential(rest)
    if scheme.lower() == "basic" and rest:
        return _basic(rest)
    raise UnauthenticatedError(
        "the Authorization header must be 'Bearer <api key>' or 'Basic <public:secret>'"
    )


def _basic(encoded: str) -> Credential:
    """Langfuse's Basic auth: base64 of `public_key:secret_key`."""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        # Not chained: a UnicodeDecodeError carries the decoded bytes, the secret among them.
        raise UnauthenticatedError("the Basic credentials are not valid base64 text") from None
    public_id, sep, secret = decoded.partition(":")
    if not sep or not public_id or not secret:
        raise UnauthenticatedError("the Basic credentials must be 'public_key:secret_key'")
    return Credential(secret, public_id)
