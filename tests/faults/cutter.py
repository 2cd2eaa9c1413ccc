"""A plain TCP proxy that can cut every connection through it at once: put between
a worker and an engine (the rank-worker and a Redis primary), it breaks pipelines
and scripts mid-flight, as a dropped network link would."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpCutter:
    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cuts = 0  # connections cut
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def start(self) -> TcpCutter:
        self._spawn(self._accept)
        return self

    def cut_all(self) -> int:
        """Close every open connection through the proxy; returns how many were cut."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, server in pairs:
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
        self.cuts += len(pairs)
        return len(pairs)

    @property
    def made_since_cut(self) -> int:
        """Connections made through the proxy since the last cut (closed ones too)."""
        with self._lock:
            return len(self._pairs)

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self.cut_all()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> TcpCutter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            self._spawn(_pump, client, server)
            self._spawn(_pump, server, client)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    for s in (src, dst):
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
