"""Whether a Kafka consumer is stuck outside its group.

After a broker restart, librdkafka (2.16) can leave a consumer whose session timed out
trying to rejoin for ever: its JoinGroup request sits in the coordinator connection's
out-queue and times out every minute, the member gets no partitions, and the worker reads
nothing while the api goes on accepting (seen in the Kafka-restart fault row). A new
consumer joins at once. So the consumer reports its group state every few seconds
(librdkafka's statistics) and is replaced when it has been out of the steady state for
longer than a rebalance can take.

Out of steady is not the same as no partitions: a member of a group with more members
than partitions is steady with nothing assigned, and replacing it would only make the
whole group rebalance.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

log = logging.getLogger("podium.log.kafka")

STUCK_AFTER_S = 45.0  # a session timeout (10 s), a rebalance and a broker's start, with room


class GroupWatch:
    def __init__(self, stuck_after_s: float = STUCK_AFTER_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._stuck_after_s = stuck_after_s
        self._clock = clock
        self._steady_at = clock()  # a new consumer has this long to join
        self.join_state = "init"
        self.state = "init"

    def saw_stats(self, stats_json: str) -> None:
        """librdkafka's statistics callback (on the consumer's thread, inside poll)."""
        try:
            cgrp = json.loads(stats_json).get("cgrp") or {}
        except ValueError:
            return
        state, join_state = str(cgrp.get("state", self.state)), str(cgrp.get("join_state", self.join_state))
        if (state, join_state) != (self.state, self.join_state):
            # Each change of the group state, for the operator who finds a worker idle.
            log.info("kafka consumer group state", extra={"state": state, "join_state": join_state})
        self.state, self.join_state = state, join_state
        if self.join_state == "steady":
            self._steady_at = self._clock()

    def stuck(self) -> bool:
        # Judged on the last statistics seen: they are served inside poll, so a worker
        # busy elsewhere for a minute (a Redis failover's retries) hears nothing, and that
        # silence says nothing about its group.
        return self.join_state != "steady" and self._clock() - self._steady_at > self._stuck_after_s
