"""Every curl example in the README works as written, against `podium demo`."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_curls() -> list[str]:
    """The curl commands of the README, continuation lines joined."""
    text = README.read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("curl "):
                commands.append(command.strip())
    inline = re.findall(r"`(curl [^`]+)`", text)
    return commands + inline


def test_the_readme_has_the_two_setup_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    makefile = (README.parent / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)


def demo_keys(demo: PodiumProcess) -> dict[str, str]:
    """The `export …_KEY=…` lines the demo printed, as the README tells a reader to paste them."""
    deadline = time.monotonic() + 10
    while len(found := dict(re.findall(r"^  export ([A-Z]+_KEY)=(\S+)$", demo.log.read_text(), flags=re.M))) < 3:
        assert time.monotonic() < deadline, "the demo did not print its keys"
        time.sleep(0.1)
    return found


def test_readme_examples_work_as_written(tmp_path: Path) -> None:
    commands = readme_curls()
    assert len(commands) >= 10
    # The demo as users meet it: auth on, its keys printed once.
    with PodiumProcess(tmp_path / "data", command="demo", env={"PODIUM_AUTH": "on"}) as demo:
        demo.start("--players", "30", "--rate", "50")
        keys = demo_keys(demo)
        assert set(keys) == {"ADMIN_KEY", "WRITE_KEY", "READ_KEY"}
        deadline = time.monotonic() + 10  # let the simulated players play a little (the board is public)
        while httpx.get(f"{demo.base_url}/v1/boards/demo").json().get("users", 0) < 5:
            assert time.monotonic() < deadline, "the demo players did not play"
            time.sleep(0.1)
        env = {**os.environ, **keys}
        for command in commands:
            run = command.replace("http://127.0.0.1:8000", demo.base_url)
            done = subprocess.run(
                ["bash", "-c", run + " -w '\\n%{http_code}'"], capture_output=True, text=True, env=env
            )
            assert done.returncode == 0, (command, done.stderr)
            body, _, status = done.stdout.rpartition("\n")
            assert status.isdigit() and int(status) < 400, (command, done.stdout)
            if body.strip():
                answer = orjson.loads(body)
                assert "error" not in answer, (command, answer)
        read = {"authorization": f"Bearer {keys['READ_KEY']}"}
        ada = httpx.get(f"{demo.base_url}/v1/boards/arena/users/ada", headers=read).json()
        assert {k: ada[k] for k in ("rank", "user_id", "score")} == {"rank": 2, "user_id": "ada", "score": 120}
        assert httpx.get(f"{demo.base_url}/v1/boards/arena/users/dee", headers=read).status_code == 404
        assert httpx.get(f"{demo.base_url}/v1/boards/arena/users/ada").status_code == 401  # arena is key-only
        top = httpx.get(f"{demo.base_url}/v1/boards/demo/top?limit=5").json()
        assert len(top["entries"]) == 5
        assert [e["rank"] for e in top["entries"]] == [1, 2, 3, 4, 5]
        assert "Podium demo" in demo.log.read_text()
