"""One region per user (docs/global.md), refused where an api can know it.

The rule itself is enforced by the home db-worker, the one reader of every region's
events in order (podium/pipeline/db_worker.py): each user's total on a board records the region its
first event entered through, and an event from another region is not applied. An api
refuses such an event before appending it, with 409 `wrong_region` naming the user's
region, wherever it reads the user's stored totals anyway: a submission with `wait=true`,
a removal, a ban, a privacy delete. A plain submission is not read for (that would cost a
store read across the ocean per score): it is accepted, and dropped at home.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from podium.domain.totals import Total, entered_elsewhere
from podium.errors import WrongRegion
from podium.store.base import Store, UserKey


def refuse_elsewhere(totals: Iterable[Total | None], region: str) -> None:
    """Raise WrongRegion if any of the users' totals entered through another region than `region`."""
    for total in totals:
        entered = entered_elsewhere(total, region)
        if total is not None and entered is not None:
            raise WrongRegion(
                f"user {total.user_id!r} enters board {total.board!r} through region {entered!r} (its first "
                f"event there did), and this api is region {region!r}: send the user's events to the api of "
                f"region {entered!r}",
                user_region=entered,
            )


async def check_entered(store: Store, users: Sequence[UserKey], region: str) -> None:
    """As refuse_elsewhere, for the stored totals of `users` ((board, user) pairs)."""
    if users:
        refuse_elsewhere((await store.load_totals(list(users))).values(), region)
