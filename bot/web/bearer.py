"""`Authorization: Bearer <token>`, compared in constant time: the API, the health details and
the metrics all ask for a token this way."""

from __future__ import annotations

import hmac

from pydantic import SecretStr


def bearer_token(authorization: str | None) -> str | None:
    """The token of a `Bearer` authorization header; None without one."""
    scheme, _, given = (authorization or "").partition(" ")
    return given.strip() or None if scheme.lower() == "bearer" else None


def same_token(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_matches(expected: SecretStr | None, authorization: str | None) -> bool:
    """Whether `authorization` carries `expected`; never, when no token is configured."""
    given = bearer_token(authorization)
    return expected is not None and given is not None and same_token(given, expected.get_secret_value())
