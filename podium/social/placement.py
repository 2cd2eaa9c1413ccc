"""Which social shard is a user's home: rendezvous hashing over the shards' names.

Each user goes to the shard whose (name, user) hash is highest. Adding a shard moves only
the users for whom the new shard's hash beats all the others' (about 1/(n+1) of them), and
every other user stays where they were: a modulo would move nearly everyone. Shards are
named by what does not change over their life: a Sentinel master name, or a URL without its
credentials (a new password must not move anyone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit


def shard_label(shard: str) -> str:
    """The stable name of a shard: a Sentinel name as is, a URL without user and password."""
    if "://" not in shard:
        return shard
    parts = urlsplit(shard)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _weight(label: str, user_id: str) -> bytes:
    return hashlib.blake2b(f"{label}\0{user_id}".encode(), digest_size=8).digest()


def home_of(user_id: str, labels: Sequence[str]) -> int:
    """The position in `labels` of the user's home shard."""
    return max(range(len(labels)), key=lambda i: _weight(labels[i], user_id))
