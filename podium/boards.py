"""Board settings, read through a cache: they never change once created."""

from __future__ import annotations

from podium.domain.boards import Board
from podium.errors import BoardConflict, BoardNotFound
from podium.store.base import Store


class Boards:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, Board] = {}

    async def create(self, board: Board) -> tuple[Board, bool]:
        """Create the board; an existing one with other settings is a conflict."""
        stored, created = await self._store.create_board(board)
        if not created and stored != board:
            raise BoardConflict(
                f"board {board.name!r} exists with order={stored.order.value}, operator={stored.operator.value}"
            )
        self._cache[stored.name] = stored
        return stored, created

    async def find(self, name: str) -> Board | None:
        board = self._cache.get(name)
        if board is None:
            board = await self._store.get_board(name)
            if board is not None:
                self._cache[name] = board
        return board

    async def names(self) -> list[str]:
        """Every board's name, sorted (the web page's board picker)."""
        return await self._store.board_names()

    async def get(self, name: str) -> Board:
        board = await self.find(name)
        if board is None:
            raise BoardNotFound(f"no board named {name!r}")
        return board
