"""API keys: their scopes, how a key is written and checked. Pure: no I/O.

A key is `pk_<id>_<secret>`. The id is public (it names the key in `podium keys list`, in
logs and in `request.state.key_id`); the secret is 32 random bytes, shown once at creation
and stored only as its SHA-256 digest. A slow password hash is not needed: the secret is
random and long, so its digest cannot be searched back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "pk_"
ID_HEX = 16  # 8 random bytes: an id names a key, it does not guard it
SECRET_BYTES = 32
MAX_SECRET = 128  # longer is no key of ours: refused before hashing


class Scope(StrEnum):
    """What a key may do, each including the ones before it."""

    READ = "read"  # read boards (game clients)
    WRITE = "write"  # submit scores, manage friends and users' data (game servers)
    ADMIN = "admin"  # create and change boards, hide users, rebuild, reconcile


RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}

# Why a request was refused: the label of podium_auth_refusals_total.
MISSING, UNKNOWN, REVOKED, TOO_LOW = "missing", "unknown", "revoked", "scope"


def allows(have: Scope, need: Scope) -> bool:
    return RANK[have] >= RANK[need]


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as stored: everything but its secret."""

    key_id: str
    name: str
    scope: Scope
    digest: str  # SHA-256 of the secret, hex
    created_at_us: int
    revoked_at_us: int | None = None

    def to_json(self) -> dict[str, object]:
        """What `podium keys list` shows: never the digest."""
        return {
            "id": self.key_id,
            "name": self.name,
            "scope": self.scope.value,
            "created_at_us": self.created_at_us,
            "revoked": self.revoked_at_us is not None,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key(scope: Scope, name: str, now_us: int) -> tuple[KeyRecord, str]:
    """A new key's record and the key itself (shown once, never stored)."""
    key_id = secrets.token_hex(ID_HEX // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return KeyRecord(key_id, name, scope, digest(secret), now_us), f"{PREFIX}{key_id}_{secret}"


def parse(key: str) -> tuple[str, str] | None:
    """(id, secret) of a key as sent, or None if it cannot be one of ours."""
    if not key.startswith(PREFIX):
        return None
    key_id, _, secret = key[len(PREFIX) :].partition("_")
    if len(key_id) != ID_HEX or not all(c in "0123456789abcdef" for c in key_id):
        return None
    if not 0 < len(secret) <= MAX_SECRET:
        return None
    return key_id, secret


def matches(record: KeyRecord, secret: str) -> bool:
    """The secret is the record's, compared in constant time."""
    return hmac.compare_digest(record.digest, digest(secret))
