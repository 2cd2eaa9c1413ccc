"""The bench's progress bar: one line on stderr for the whole run, each stage a share of
it by its expected weight. On a terminal it is redrawn in place; elsewhere (CI, a log)
each stage prints one line when it starts and one when it ends."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    def __init__(
        self,
        stages: Sequence[tuple[str, float]],
        *,
        out: TextIO = sys.stderr,
        enabled: bool = True,
        label: str = "bench",
    ) -> None:
        self._label = label
        self._weights = dict(stages)
        self._total = sum(self._weights.values()) or 1.0
        self._done = 0.0  # weight of the finished stages
        self._stage = ""
        self._share = 0.0  # of the current stage
        self._out = out
        self._enabled = enabled
        self._redraw = enabled and out.isatty()
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._width = 0

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._stage, self._share = name, 0.0
        self._line(f"{name} …", force=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self._done += self._weights.get(name, 0.0)
            self._share = 0.0
            self._line(f"{name} done in {time.monotonic() - started:.1f} s", force=True, end=not self._redraw)

    def update(self, share: float, note: str = "") -> None:
        """The current stage is `share` (0–1) done; `note` says where it is."""
        self._share = min(max(share, 0.0), 1.0)
        self._line(f"{self._stage}: {note}" if note else self._stage)

    def close(self) -> None:
        if self._redraw:
            self._out.write("\n")
            self._out.flush()

    def _line(self, text: str, *, force: bool = False, end: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and (not self._redraw or now - self._last_draw < 0.1):
            return
        self._last_draw = now
        share = (self._done + self._weights.get(self._stage, 0.0) * self._share) / self._total
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = f"{self._label} [{bar}] {share:4.0%} {now - self._started:5.0f} s  {text}"
        if self._redraw:
            self._out.write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif force or end:
            self._out.write(line + "\n")
        self._out.flush()
