"""What the admin endpoints need: the store, the change history, the rank index (with
its generations) and the jobs (recorded in the job store, run here). Built once in
bootstrap, like the services (podium/services.py)."""

from __future__ import annotations

from dataclasses import dataclass

from podium.cdc.base import ChangeHistory, ReplayStart
from podium.index.generations import GenerationalRankIndex, RebuildRunning
from podium.social.base import SocialIndex
from podium.store.base import Store
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job, Jobs
from podium.usecases.rebuild import rebuild
from podium.usecases.replay import replay


@dataclass(frozen=True, slots=True)
class Admin:
    store: Store
    boards: Boards
    index: GenerationalRankIndex
    history: ChangeHistory
    jobs: Jobs
    social: SocialIndex | None = None  # refilled by a rebuild too

    async def start_rebuild(self, board: str | None, *, force: bool = False) -> Job:
        """Start rebuilding one board (or every board); an unknown board or one being
        rebuilt already is refused here, before any job starts."""
        names = [board] if board is not None else None
        if board is not None:
            found = await self.boards.get(board)
            running = (await self.index.generations.read(found.name)).rebuilding
            if running is not None and not force:
                raise RebuildRunning(f"board {board!r} is being rebuilt already (force: true takes it over)")
        return await self.jobs.start(
            "rebuild",
            lambda job: rebuild(job, self.store, self.boards, self.index, names, force=force, social=self.social),
        )

    async def start_replay(self, start: ReplayStart) -> Job:
        return await self.jobs.start("replay", lambda job: replay(job, self.history, self.boards, self.index, start))

    async def close(self) -> None:
        await self.jobs.close()
        await self.history.close()
