"""The pending-flow record: what ``/oauth2callback`` needs from ``/authorize``, as compact JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PendingFlow"]

#: One compact encoder for every record (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass
class PendingFlow:
    """What ``/oauth2callback`` needs to finish a sign-in started by ``/authorize``.

    :ivar code_verifier: the PKCE code verifier.
    :ivar nonce: the OIDC nonce sent in the authorization request.
    :ivar next_url: the validated URL to send the browser to afterwards.
    :ivar extra_scopes: scopes requested on top of the configured ones.
    :ivar redirect_uri: the exact redirect URI sent (the token request repeats it).
    :ivar expires_at: unix seconds after which the flow is refused; set by
        :meth:`PendingFlows.begin`.
    """

    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    next_url: str
    extra_scopes: tuple[str, ...]
    redirect_uri: str
    expires_at: int = 0

    def to_json(self, *, expires_at: int | None = None) -> str:
        """Compact JSON with one-letter keys; empty optional fields are omitted.

        :param expires_at: the expiry to write instead of ``expires_at``
            (:meth:`PendingFlows.begin` sets it without copying the flow).
        """
        data: dict[str, Any] = {
            "v": self.code_verifier,
            "n": self.nonce,
            "u": self.next_url,
            "r": self.redirect_uri,
            "e": int(self.expires_at if expires_at is None else expires_at),
        }
        if self.extra_scopes:
            data["s"] = list(self.extra_scopes)
        return _ENCODER.encode(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingFlow:
        """Parse :meth:`to_json`'s output.

        :raises ValueError: the text is not a valid record.
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a pending flow record must be a JSON object")
        verifier, nonce, next_url, redirect_uri = (data.get(k) for k in ("v", "n", "u", "r"))
        if not (
            isinstance(verifier, str)
            and isinstance(nonce, str)
            and isinstance(next_url, str)
            and isinstance(redirect_uri, str)
        ):
            raise ValueError("a pending flow record lacks a required field")
        expires_at = data.get("e")
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            raise ValueError("a pending flow record has no valid expiry")
        scopes = data.get("s", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("a pending flow record has invalid scopes")
        return cls(
            code_verifier=verifier,
            nonce=nonce,
            next_url=next_url,
            extra_scopes=tuple(scopes),
            redirect_uri=redirect_uri,
            expires_at=expires_at,
        )
