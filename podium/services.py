"""What each kind of process hands its handlers, built once at start by the composition
root (podium/bootstrap.py): every field is there, except the keys with auth off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from podium.domain.boards import Board
from podium.domain.totals import Total
from podium.index.generations import GenerationalRankIndex
from podium.limits.base import RateLimiter, SubmissionCounter
from podium.live.base import LiveHub
from podium.pipeline.ingest import Ingest
from podium.plumbing.supervisor import WorkerState
from podium.settings import Settings
from podium.store.base import Store
from podium.usecases.admin_jobs import Admin
from podium.usecases.api_keys import Keys
from podium.usecases.board_settings import Boards
from podium.usecases.cohorts import Cohorts
from podium.usecases.deliveries import Deliveries
from podium.usecases.friends import Friends
from podium.usecases.rank_history import History
from podium.usecases.reconcile import Reconciler
from podium.usecases.standings import Standings
from podium.usecases.tournaments import Tournaments
from podium.usecases.users import Users
from podium.visibility.base import Visibility


@dataclass(frozen=True, slots=True)
class WorkerServices:
    """What a worker process (db-worker, rank-worker) shows on /healthz: its loops."""

    settings: Settings
    workers: tuple[WorkerState, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    """What the API needs, handed to every handler; its process may run the workers too."""

    settings: Settings
    workers: tuple[WorkerState, ...]  # this process's worker loops (none in an api alone)
    boards: Boards
    ingest: Ingest
    store: Store  # the source of truth, for the few reads that need it
    index: GenerationalRankIndex
    visibility: Visibility
    admin: Admin  # rebuild and replay jobs
    reconciler: Reconciler
    friends: Friends  # friend lists and friends boards (podium/usecases/friends.py)
    live: LiveHub  # live updates (podium/live/)
    users: Users  # bans, privacy deletes and exports (podium/usecases/users.py)
    keys: Keys | None  # API keys (podium/usecases/api_keys.py); None with auth off: every request allowed
    # Request rates and submissions per user a minute (podium/limits/).
    rate_limiter: RateLimiter
    submission_counter: SubmissionCounter
    tournaments: Tournaments  # joins, attempts and periods of tournaments' boards (podium/usecases/tournaments.py)
    history: History  # users' rank history (podium/usecases/rank_history.py)
    deliveries: Deliveries  # webhooks and their deliveries (podium/usecases/deliveries.py)
    cohorts: Cohorts  # users' cohorts and reads within one (podium/usecases/cohorts.py)
    # The rank index is read from this region's read-only replicas (docs/global.md): changes
    # of boards and of the index are the home region's api's (podium/api/regions.py).
    reads_replicas: bool = False

    @property
    def standings(self) -> Standings:
        """How every read shows ranks (podium/usecases/standings.py): never the raw index."""
        return Standings(self.index)  # stateless: one per call costs nothing

    async def store_totals(self, board: Board, users: Sequence[str]) -> dict[str, Total]:
        """The users' stored totals on the board (tombstones too)."""
        found = await self.store.load_totals([(board.name, u) for u in users])
        return {user: t for (_, user), t in found.items()}
