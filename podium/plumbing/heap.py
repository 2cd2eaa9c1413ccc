"""A worker process's heap kept out of the cyclic collector's way (the db-worker's).

A db-worker allocates some ten objects a record (the log record, the event, the totals, the
rows), nearly all freed by their counts as the batch ends, and keeps what lives on: up to
100,000 users' totals and idempotency keys (podium/pipeline/known_totals.py). CPython's
collector runs a young pass every 700 net allocations and a full one when the survivors grow
by a quarter, and every full pass walks the whole heap: the modules, the drivers' state and
the kept totals. Measured on the db stage alone (20,000 new users from a backlog,
docs/benchmarks.md, "The db-worker's CPU a score"): the collector took 10–15 µs a score,
a third of the worker's CPU.

So, once the worker is open: what it made to start (modules, the drivers' clients, the
boards read) is frozen, out of every pass (`gc.freeze`: never collected, and never
garbage); and a young pass runs every YOUNG_PASS net allocations, not 700 — the kept totals
are acyclic, and the few cycles a batch leaves (an exception's traceback) wait a little
longer to be freed.
"""

from __future__ import annotations

import gc

YOUNG_PASS = 20_000


def settle() -> None:
    gc.collect()  # what starting left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_PASS, middle, old)
