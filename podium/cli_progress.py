"""`podium rebuild` and `podium replay` on the command line: start the job through the
API (where the index is reachable) and show its progress until it ends."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import httpx

BAR_WIDTH = 30
NOUNS = {"rebuild": "totals", "replay": "changes"}


def progress_line(job: dict[str, Any]) -> str:
    done, total = job["done"], job["total"]
    share = min(done / total, 1.0) if total else (1.0 if job["state"] == "done" else 0.0)
    filled = int(share * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    noun = NOUNS.get(job["kind"], "items")
    return f"{job['kind']} [{bar}] {share:6.1%} {done:,} of {total:,} {noun}, {job['seconds']:.1f} s, {job['step']}"


def run_job(
    url: str, path: str, body: dict[str, Any], *, key: str = "", out: TextIO = sys.stdout, every_s: float = 0.5
) -> int:
    """POST the job with the admin `key`, then poll it and redraw the progress line; 0 when it is done."""
    try:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
            answer = client.post(path, json=body)
            if answer.status_code != 202:
                print(f"podium: {_message(answer)}", file=sys.stderr)
                return 1
            job = answer.json()
            redraw = out.isatty()
            last_line = ""
            while True:
                line = progress_line(job)
                if line != last_line:
                    out.write(("\r" + line.ljust(len(last_line))) if redraw else line + "\n")
                    out.flush()
                    last_line = line
                if job["state"] != "running":
                    break
                time.sleep(every_s)
                answer = client.get(f"/v1/admin/jobs/{job['id']}")
                if answer.status_code != 200:
                    print(f"\npodium: {_message(answer)}", file=sys.stderr)
                    return 1
                job = answer.json()
    except httpx.HTTPError as exc:
        print(f"\npodium: the API at {url} is unreachable ({exc})", file=sys.stderr)
        return 1
    if redraw:
        out.write("\n")
    if job["state"] != "done":
        print(f"podium: {job['kind']} failed: {job['error']}", file=sys.stderr)
        return 1
    noun = NOUNS.get(job["kind"], "items")
    print(f"podium: {job['kind']} done: {job['done']:,} {noun} read, {job['applied']:,} applied, in {job['seconds']} s")
    return 0


def _message(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status_code}"
