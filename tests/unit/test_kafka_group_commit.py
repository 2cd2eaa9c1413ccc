"""Concurrent appends acknowledged in one round are woken together, each only once all of
its own records are acknowledged (podium/log/kafka.py's _Settler)."""

from __future__ import annotations

import asyncio
import threading
from unittest import mock

from podium.domain.totals import LogPosition
from podium.log.kafka import _Delivery, _Settler


class Msg:
    def __init__(self, partition: int, offset: int) -> None:
        self._p, self._o = partition, offset

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o


async def test_one_wake_up_settles_every_append_acknowledged_in_a_round() -> None:
    loop = asyncio.get_running_loop()
    settler = _Settler(loop)
    appends = [_Delivery(settler, 2) for _ in range(5)]
    with mock.patch.object(loop, "call_soon_threadsafe", wraps=loop.call_soon_threadsafe) as wake:

        def poll_round() -> None:  # the poll thread: every record's report, in one round
            for n, d in enumerate(appends):
                d.done(0, None, Msg(0, 2 * n))
            assert not any(d.future.done() for d in appends)  # half acknowledged: none answered
            for n, d in enumerate(appends):
                d.done(1, None, Msg(0, 2 * n + 1))

        thread = threading.Thread(target=poll_round)
        thread.start()
        thread.join()
        results = await asyncio.gather(*(d.future for d in appends))
    assert wake.call_count == 1
    assert results[4] == [LogPosition(0, 8), LogPosition(0, 9)]


async def test_a_failed_record_fails_only_its_own_append() -> None:
    settler = _Settler(asyncio.get_running_loop())
    ok, failed = _Delivery(settler, 1), _Delivery(settler, 1)
    ok.done(0, None, Msg(1, 7))
    failed.done(0, "broker gone", Msg(1, -1))
    assert await ok.future == [LogPosition(1, 7)]
    try:
        await failed.future
    except Exception as exc:
        assert "broker gone" in str(exc)
    else:
        raise AssertionError("the failed append was answered as durable")
