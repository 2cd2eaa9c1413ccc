"""The bench's CPU readings (podium/tools/bench/cpu.py): a process's time from /proc, the process
on a port, and the arithmetic from two readings to µs a score and cores at 1 M scores/s."""

from __future__ import annotations

import os
import socket
import time

import pytest

from podium.tools.bench.cpu import (
    Meter,
    cores_per_million_per_s,
    listening_pids,
    missing,
    process_cpu_s,
    thread_cpu_s,
    us_per_score,
)


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_process_cpu_time_grows_with_its_work() -> None:
    before, main_before = process_cpu_s(os.getpid()), thread_cpu_s(os.getpid())
    _busy(0.2)
    assert process_cpu_s(os.getpid()) - before == pytest.approx(0.2, abs=0.05)
    assert thread_cpu_s(os.getpid()) - main_before == pytest.approx(0.2, abs=0.05)


def test_a_process_that_is_gone_reads_zero() -> None:
    assert process_cpu_s(2**22 + 1) == 0.0


def test_the_process_listening_on_a_port_is_found() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert listening_pids([port]) == {port: os.getpid()}
    assert listening_pids([port]) == {}


async def test_a_meter_sums_each_stage_and_knows_what_it_lacks() -> None:
    meter = Meter()
    meter.add_pid("api", os.getpid())
    meter.add_pid("api", None)  # not found on this machine: left out
    before = await meter.read()
    _busy(0.1)
    after = await meter.read()
    us = us_per_score(before, after, 1000)
    assert us["api"] == pytest.approx(100, abs=30)  # 0.1 s over 1,000 scores
    assert missing(meter, ["api", "cassandra"]) == ["cassandra"]


def test_one_us_a_score_is_one_core_at_a_million_a_second() -> None:
    assert us_per_score({"a": 1.0}, {"a": 1.5, "b": 0.25}, 100_000) == {"a": 5.0, "b": 2.5}
    assert cores_per_million_per_s({"a": 5.0, "b": 2.5}) == 7.5
