"""A lean HTTP/1.1 load generator: keep-alive connections, each sending its next request
as soon as the previous answer is in (a closed loop), requests encoded in advance. Far
cheaper per request than a full client, so that on a small machine the server, not the
client, is what is measured; both servers of a comparison get the same client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson


def post(path: str, body: object) -> bytes:
    data = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


@dataclass
class Load:
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def _answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"content-length:")
    if at >= 0:
        end = lower.find(b"\r\n", at)
        await reader.readexactly(int(lower[at + 15 : end]))
    return status


async def closed_loop(port: int, requests: Sequence[bytes], *, connections: int, seconds: float) -> Load:
    """Send `requests` round-robin over `connections` for `seconds`; answers 2xx count as ok."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def one(first: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = first
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(requests[i % len(requests)])
                status = await _answer(reader)
                load.latencies_ms.append((time.perf_counter() - started) * 1e3)
                load.statuses[status] = load.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    load.ok += 1
                else:
                    load.failed += 1
                i += connections
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in range(connections)))
    load.seconds = time.perf_counter() - started
    return load
