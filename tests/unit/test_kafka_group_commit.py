"""Concurrent appends acknowledged in one round are woken together, each only once all of
its own records are acknowledged (podium/log/kafka.py's _Settler); an append without
positions counts its records' reports (_Acks)."""

from __future__ import annotations

import asyncio
import sys
import threading
from unittest import mock

from podium.domain.totals import LogPosition
from podium.errors import BackendUnavailable
from podium.log.kafka import _Acks, _Delivery, _Settler


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


async def test_an_append_without_positions_is_answered_once_its_last_record_is_in() -> None:
    loop = asyncio.get_running_loop()
    settler = _Settler(loop)
    placed, counted = _Delivery(settler, 1), _Acks(settler, 3)
    with mock.patch.object(loop, "call_soon_threadsafe", wraps=loop.call_soon_threadsafe) as wake:

        def poll_round() -> None:
            for _ in range(2):
                counted.acked(None, Msg(0, -1))
            assert not counted.future.done()
            placed.done(0, None, Msg(1, 4))
            counted.acked(None, Msg(2, -1))

        thread = threading.Thread(target=poll_round)
        thread.start()
        thread.join()
        assert await counted.future is None
        assert await placed.future == [LogPosition(1, 4)]
    assert wake.call_count == 1  # both appends woken together
    empty = _Acks(settler, 0)
    assert empty.future.done() and empty.future.result() is None


async def test_a_failed_record_fails_an_append_without_positions_wherever_it_is_reported() -> None:
    settler = _Settler(asyncio.get_running_loop())
    first, middle, last = (_Acks(settler, 3) for _ in range(3))
    for acks, failing in ((first, 0), (middle, 1), (last, 2)):
        for i in range(3):
            acks.acked("broker gone" if i == failing else None, Msg(0, -1))
    for acks in (first, middle, last):
        try:
            await acks.future
        except BackendUnavailable as exc:
            assert "broker gone" in str(exc)
        else:
            raise AssertionError("an append with a failed record was answered as durable")


async def test_reports_from_two_threads_at_once_are_each_counted() -> None:
    """The poll thread and an appending thread whose queue is full both report: the count
    must neither lose a report (never answered) nor settle early."""
    settler = _Settler(asyncio.get_running_loop())
    each = 50_000
    acks = _Acks(settler, 2 * each + 1)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads swap as often as they can: a lost update would show
    try:
        threads = [threading.Thread(target=lambda: [acks.acked(None, None) for _ in range(each)]) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    await asyncio.sleep(0)
    assert not acks.future.done()
    acks.acked(None, None)
    assert await asyncio.wait_for(acks.future, 1) is None


async def test_records_no_broker_acknowledges_fail_their_append_with_or_without_positions() -> None:
    """The real client, with no broker to take the records: librdkafka reports each record
    failed once its time is up, and the append says so (a 503 at the api) rather than
    answering as if they were durable."""
    from podium.log.kafka import KafkaLog

    log = KafkaLog("127.0.0.1:1", "nowhere", producer_extra={"message.timeout.ms": 500, "log_level": 0})
    try:
        for append in (log.append, log.append_without_positions):
            try:
                await asyncio.wait_for(append([("b:u1", b"1"), ("b:u2", b"2")]), 10)
            except BackendUnavailable as exc:
                assert "delivery failed" in str(exc)
            else:
                raise AssertionError(f"{append.__name__} answered records no broker acknowledged")
    finally:
        log._producer.purge()
        await log.close()
