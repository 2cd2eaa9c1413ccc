"""What a live client does with the frames: checks the order, keeps the state."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import uvicorn
from starlette.types import ASGIApp

from podium.api.contract.live import LiveFrame
from tests.e2e.server import free_port


@contextlib.contextmanager
def serving(app: ASGIApp, *, start_s: float = 20) -> Iterator[str]:
    """A real uvicorn server in this process, its base URL while the block runs
    (Starlette's TestClient buffers whole responses, so an endless SSE stream needs a socket)."""
    uv = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{uv.config.port}"
    finally:
        uv.should_exit = True
        thread.join(20)


class LiveState:
    """Applies frames as a game client would, and asserts the sequence numbers: every
    change once, in order, with no gap."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.seqs: list[int] = []
        self.scores: dict[str, int] = {}
        self.top: list[dict[str, Any]] = []
        self.me: dict[str, Any] | None = None
        self.friends: list[dict[str, Any]] | None = None
        self.events: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []

    def apply(self, frame: dict[str, Any]) -> None:
        msgspec.convert(frame, LiveFrame, strict=True)  # each frame is the type the contract declares
        self.frames.append(frame)
        if frame["type"] == "snapshot":
            self.seq = frame["seq"]
            self.top, self.me = frame["top"], frame["me"]
            self.friends = frame.get("friends")
            return
        assert frame["type"] == "delta", frame
        assert self.seq is not None, "a delta before any snapshot or resume point"
        for change in frame["changes"]:
            assert change["seq"] == self.seq + 1, f"expected seq {self.seq + 1}, got {change['seq']}"
            self.seq = change["seq"]
            self.seqs.append(change["seq"])
            self.scores[change["user_id"]] = change["score"]
        assert frame["seq"] == self.seq, "a frame's seq is its last change's"
        self.top = frame.get("top", self.top)
        self.me = frame.get("me", self.me)
        self.friends = frame.get("friends", self.friends)
        self.events += frame["events"]

    def saw(self, user_id: str) -> bool:
        return user_id in self.scores


def sse_frames(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse a text/event-stream; checks that `id:` is the frame's seq and `event:` its type."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                frame: dict[str, Any] = json.loads(fields["data"])
                assert fields["id"] == str(frame["seq"]) and fields["event"] == frame["type"]
                yield frame
            fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
