"""`podium rebuild` and `podium replay` against a real `podium serve`: the board is
refilled while the API keeps answering, exactly, and the CLI shows progress."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.rebuild_run import BOARD, run, seed
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.e2e

USERS = 200_000


def test_rebuild_while_serving_then_replay(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(seed(tmp_path / "data", USERS))
    server = PodiumProcess(tmp_path / "data", env={"PODIUM_SQLITE_SYNC": "normal"}).start(timeout_s=120)
    try:
        result = run(server, USERS)
        assert result.cli_code == 0, result.cli_output
        progress = re.findall(r"rebuild \[[#.]+\]\s+([\d.]+)% ([\d,]+) of ([\d,]+) totals", result.cli_output)
        assert len(progress) >= 2, result.cli_output  # it showed progress on the way, not just the end
        assert progress[-1] == ("100.0", f"{USERS:,}", f"{USERS:,}")
        assert f"rebuild done: {USERS:,} totals read, {USERS:,} applied" in result.cli_output
        assert len(result.reads.latencies_ms) > 20  # the API answered during the rebuild...
        assert result.reads.wrong == []  # ...and every answer was exact

        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            # A change after the rebuild lands in the new generation.
            answer = client.post(f"/v1/boards/{BOARD}/scores?wait=true", json={"user_id": "late", "score": 10**7})
            assert answer.json()["rank"] == 1
            # Replay the last changes of the log: read again, applied never (versions).
            replay = subprocess.run(
                [sys.executable, "-m", "podium", "replay", "--from", str(USERS - 99), "--url", server.base_url],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert replay.returncode == 0, replay.stderr
            assert "replay done: 101 changes read, 0 applied" in replay.stdout, replay.stdout
            assert client.get(f"/v1/boards/{BOARD}").json()["users"] == USERS + 1
    finally:
        server.stop()
