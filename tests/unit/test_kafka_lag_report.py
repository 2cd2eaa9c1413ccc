"""The consumer lag gauge is read from the consumer at most once a LAG_EVERY_S, not on
every poll (podium/log/kafka.py): a busy worker polls many times a second, and each
report is a position and a watermark call per partition (issue 19: CPU per score)."""

from __future__ import annotations

from unittest import mock

from podium.log import kafka
from podium.log.kafka import KafkaLogConsumer


def test_the_lag_is_reported_on_the_first_poll_and_then_once_a_period() -> None:
    consumer = KafkaLogConsumer("127.0.0.1:1", ["t"], "g")
    fake = mock.Mock()
    fake.poll.return_value = None
    clock = [1000.0]
    with (
        mock.patch.object(kafka.time, "monotonic", lambda: clock[0]),
        mock.patch.object(consumer, "_report_lag") as report,
    ):
        consumer._consume(fake, 10, 0.1)
        consumer._consume(fake, 10, 0.1)  # the same instant: not again
        clock[0] += kafka.LAG_EVERY_S
        consumer._consume(fake, 10, 0.1)
    assert report.call_count == 2


def test_a_report_that_set_no_lag_is_tried_again_at_the_next_poll() -> None:
    # A new assignment has no position before its first records: its lag must show with the
    # poll that brings them, not a period later (a scrape right after the first batch).
    consumer = KafkaLogConsumer("127.0.0.1:1", ["t"], "g")
    fake = mock.Mock()
    fake.poll.return_value = None
    with (
        mock.patch.object(kafka.time, "monotonic", lambda: 1000.0),
        mock.patch.object(consumer, "_report_lag", side_effect=[False, True, True]) as report,
    ):
        for _ in range(3):
            consumer._consume(fake, 10, 0.1)
    assert report.call_count == 2  # nothing set, then set, then within the period: skipped
