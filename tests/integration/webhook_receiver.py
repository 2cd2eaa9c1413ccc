"""A webhook receiver on 127.0.0.1 for tests: it keeps every POST it got (headers and body),
answers 200, or holds chosen requests until released (a receiver that has the request and
has not answered yet: when a test kills the sender). On the shared stack other tests' boards
end periods too: `only` keeps the test's own (the others are answered and not kept)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from podium.domain.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, signed_by


@dataclass(frozen=True)
class Arrival:
    delivery: str
    signature: str
    raw: bytes

    @property
    def body(self) -> Any:
        return orjson.loads(self.raw)


class Receiver:
    def __init__(self, only: Callable[[Arrival], bool] | None = None) -> None:
        self.arrivals: list[Arrival] = []
        self.changed = threading.Condition()
        self.hold_next = 0  # hold this many of the next new deliveries unanswered
        self.hold_if: Callable[[Arrival], bool] = lambda _: True  # ... of those it holds
        self.held: set[str] = set()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                arrival = Arrival(self.headers.get(DELIVERY_HEADER, ""), self.headers.get(SIGNATURE_HEADER, ""), raw)
                if only is not None and not only(arrival):
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with receiver.changed:
                    receiver.arrivals.append(arrival)
                    hold = (
                        receiver.hold_next > 0 and arrival.delivery not in receiver.held and receiver.hold_if(arrival)
                    )
                    if hold:
                        receiver.hold_next -= 1
                        receiver.held.add(arrival.delivery)
                    receiver.changed.notify_all()
                if hold:
                    receiver._release.wait(60)
                    return  # never answers: the connection just closes
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/podium"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout_s: float) -> list[Arrival]:
        """The arrivals, once there are at least `count` distinct delivery ids (or the time is up)."""
        with self.changed:
            self.changed.wait_for(lambda: len({a.delivery for a in self.arrivals}) >= count, timeout_s)
            return list(self.arrivals)

    def wait_until(self, done: Callable[[list[Arrival]], bool], timeout_s: float) -> list[Arrival]:
        """The arrivals, once `done(arrivals)` (or the time is up)."""
        with self.changed:
            self.changed.wait_for(lambda: done(self.arrivals), timeout_s)
            return list(self.arrivals)

    def wait_held(self, timeout_s: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: bool(self.held), timeout_s)


def verified(arrivals: list[Arrival], secret: str) -> dict[str, Arrival]:
    """The arrivals by delivery id, each repeat checked to be the same bytes; every signature checked."""
    by_id: dict[str, Arrival] = {}
    for a in arrivals:
        assert signed_by(secret, a.raw, a.signature), a
        assert a.body["id"] == a.delivery
        assert by_id.setdefault(a.delivery, a).raw == a.raw  # a repeat is the same delivery, byte for byte
    return by_id
