"""The CLI refuses bad numbers, ids and times as the API does: one clear line, exit 2,
no traceback, nothing started or sent."""

from __future__ import annotations

import subprocess
import sys

import pytest

from podium.cli import main
from podium.cli_args import replay_start

BAD = [
    (["replay", "--from", "²"], "argument --from: from must be an offset"),  # isdigit() but not int()
    (["replay", "--from", "-3"], "argument --from"),
    (["replay", "--from", "2025-13-45"], "argument --from"),
    (["replay", "--from", "9" * 4000], "argument --from"),  # int() of 4000 digits raises
    (["serve", "--port", "99999"], "argument --port: must be a whole number from 0 to 65535"),
    (["serve", "--port", "٣"], "argument --port"),  # int() takes Arabic-Indic digits
    (["api", "--port", "1_0"], "argument --port"),  # and underscores
    (["db-worker", "--metrics-port", "-1"], "argument --metrics-port"),
    (["demo", "--players", "0"], "argument --players: must be a whole number from 1 to 100000"),
    (["demo", "--rate", "nan"], "argument --rate: must be a number above 0"),
    (["demo", "--rate", "0"], "argument --rate"),
    (["bench", "--users", "1e6"], "argument --users"),
    (["bench", "--seconds", "inf"], "argument --seconds"),
    (["bench", "--samples", "-5"], "argument --samples"),
    (["bench", "--bucket-members", "x"], "argument --bucket-members"),
    (["bench", "--events", "0"], "argument --events"),
    (["bench", "--returning-users", "²"], "argument --returning-users"),
    (["simulate", "global", "--players", "²"], "argument --players"),
    (["simulate", "global", "--steady-s", "-1"], "argument --steady-s"),
    (["simulate", "global", "--partition-s", "nan"], "argument --partition-s"),
    (["simulate", "global", "--healed-s", "1e9"], "argument --healed-s"),
    (["buckets", "../etc"], "argument board: board must be 1-128 characters"),
    (["rebuild", "--board", "é"], "argument --board: board must be"),
    (["reconcile", "--board", "a b"], "argument --board"),
    (["keys", "revoke", "pk_zz"], "argument ID: a key id is 16 hex digits"),
]


@pytest.mark.parametrize(("argv", "said"), BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_argument_is_one_clear_line(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    [error] = [line for line in err.splitlines() if "error:" in line]
    assert error.startswith(f"podium {argv[0]}") and said in error, err
    assert "Traceback" not in err


def test_replay_from_as_typed_through_a_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "podium", "replay", "--from", "²"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("podium replay: error: argument --from: from must be")


@pytest.mark.parametrize(
    ("raw", "sent"),
    [("0", 0), ("12", 12), ("2025-01-31T12:00:00Z", "2025-01-31T12:00:00Z"), ("2025-01-31", "2025-01-31")],
)
def test_good_replay_start_is_sent_as_typed(raw: str, sent: object) -> None:
    assert replay_start(raw) == sent
