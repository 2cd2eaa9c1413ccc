"""The key store port: API keys' records (podium/domain/keys.py), never their secrets."""

from __future__ import annotations

from typing import Protocol

from podium.domain.keys import KeyRecord


class KeyStore(Protocol):
    async def add(self, record: KeyRecord) -> None: ...

    async def find(self, key_id: str) -> KeyRecord | None: ...

    async def records(self) -> list[KeyRecord]:
        """Every key, revoked ones too, oldest first."""
        ...

    async def revoke(self, key_id: str, at_us: int) -> bool:
        """Mark the key revoked (a key revoked already keeps its first time); False if unknown."""
        ...

    async def close(self) -> None: ...
