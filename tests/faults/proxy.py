"""A TCP proxy in front of the API that can drop a connection after the request
has reached the server and before its answer reaches the client: the server did
the work, the client saw a dropped connection and retries with the same key.

It reads just enough HTTP/1.1 to find where each request ends (a head, then a
`Content-Length` body; no chunked request bodies, which no game server here
sends). A request is forwarded only once it is whole, after deciding whether to
cut its answer, so the decision can never race the answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        cut_every: int = 0,
        methods: tuple[bytes, ...] = (b"POST",),
        on_cut: Callable[[], object] | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cut_every = cut_every  # 0: never; k: the answer of every k-th counted request
        self.methods = methods  # only requests with these methods are counted (and cut)
        self.on_cut = on_cut
        self.requests = 0  # counted requests forwarded whole
        self.cuts = 0  # answers dropped
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for s in self._open:
                _close(s)
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)  # the API is down: the client sees a refused/reset connection
                continue
            client.settimeout(None)
            server.settimeout(None)
            conn = _Connection(client, server)
            with self._lock:
                self._open |= {client, server}
            self._spawn(self._requests, conn)
            self._spawn(self._answers, conn)

    def _requests(self, conn: _Connection) -> None:
        """Client to server, one whole request at a time."""
        buffer = b""
        try:
            while True:
                data = conn.client.recv(65536)
                if not data:
                    break
                buffer += data
                while (end := _request_end(buffer)) is not None:
                    request, buffer = buffer[:end], buffer[end:]
                    conn.cut_next_answer = self._should_cut(request)
                    conn.server.sendall(request)
        except OSError:
            pass
        finally:
            self._drop(conn)

    def _answers(self, conn: _Connection) -> None:
        """Server to client, unless this answer is to be cut."""
        try:
            while True:
                data = conn.server.recv(65536)
                if not data:
                    break
                if conn.cut_next_answer:
                    with self._lock:
                        self.cuts += 1
                    if self.on_cut is not None:
                        self.on_cut()
                    break
                conn.client.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(conn)

    def _should_cut(self, request: bytes) -> bool:
        if request.split(b" ", 1)[0] not in self.methods:
            return False
        with self._lock:
            self.requests += 1
            return self.cut_every > 0 and self.requests % self.cut_every == 0

    def _drop(self, conn: _Connection) -> None:
        with self._lock:
            self._open -= {conn.client, conn.server}
        _close(conn.client)
        _close(conn.server)


class _Connection:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.cut_next_answer = False


def _request_end(buffer: bytes) -> int | None:
    """Where the first whole request in the buffer ends; None if it is not whole yet."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    length = 0
    for line in buffer[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    end = head_end + 4 + length
    return end if len(buffer) >= end else None


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
