"""The simulated network between regions (podium/tools/simulate/link.py)."""

from __future__ import annotations

import asyncio

import pytest

from podium.tools.simulate.link import Link, LinkDown

ONE_WAY_S = 0.05


async def test_a_call_takes_a_round_trip_and_its_work_runs_after_one_way() -> None:
    link = Link("a-b", ONE_WAY_S)
    loop = asyncio.get_running_loop()
    started = loop.time()
    ran_at: list[float] = []

    async def work() -> str:
        ran_at.append(loop.time() - started)
        return "done"

    assert await link.call(work) == "done"
    took = loop.time() - started
    assert ONE_WAY_S <= ran_at[0] < ONE_WAY_S + 0.03
    assert 2 * ONE_WAY_S <= took < 2 * ONE_WAY_S + 0.05


async def test_messages_arrive_in_the_order_they_were_sent_despite_jitter() -> None:
    link = Link("a-b", ONE_WAY_S, jitter_s=0.04, seed=7)
    arrived: list[int] = []

    def request(i: int) -> asyncio.Task[None]:
        async def work() -> None:
            arrived.append(i)

        return asyncio.create_task(link.call(work))

    tasks = []
    for i in range(30):
        tasks.append(request(i))
        await asyncio.sleep(0.002)
    await asyncio.gather(*tasks)
    assert arrived == list(range(30))


async def test_a_cut_link_loses_the_request_and_the_sender_learns_by_its_time_out() -> None:
    link = Link("a-b", ONE_WAY_S, timeout_s=0.2)
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    link.cut()
    started = asyncio.get_running_loop().time()
    with pytest.raises(LinkDown):
        await link.call(work)
    assert asyncio.get_running_loop().time() - started >= 0.2
    assert ran == [] and link.lost == 1
    link.heal()
    await link.call(work)
    assert ran == [True]


async def test_a_cut_while_the_answer_travels_loses_the_answer_of_work_that_was_done() -> None:
    link = Link("a-b", ONE_WAY_S, timeout_s=0.2)
    done: list[bool] = []

    async def work() -> None:
        done.append(True)
        link.cut()  # the far end did it; the answer will not get back

    with pytest.raises(LinkDown):
        await link.call(work)
    assert done == [True]


async def test_a_message_in_flight_at_a_cut_is_lost_even_when_the_link_heals_before_it_lands() -> None:
    link = Link("a-b", ONE_WAY_S, timeout_s=0.2)
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    call = asyncio.create_task(link.call(work))
    await asyncio.sleep(ONE_WAY_S / 4)
    link.cut()
    link.heal()  # the connection was reset all the same
    with pytest.raises(LinkDown):
        await call
    assert ran == []
