"""How the rank index encodes a board in Redis, shared by the sharded rank index
(`index.sharded`) and the social index.

Rank order is (total, tie-break, user_id) (`domain.ordering`). A sorted-set score (a
double) holds a total exactly (|total| ≤ 2^53 − 1) but not a tie-break as well, so:
  score  = −total on a desc board, +total on an asc board (ZRANK is the rank − 1)
  member = the tie-break in fixed-width hex (16 digits of reached_at_us; 30 on a board
           with a subscore, the subscore above the time), ':', then the user id: Redis
           orders equal scores by member bytes, i.e. by subscore, then who came first.
A hash keeps each user's newest state (version, the member's tie-break, total, …), so a Lua
script can apply a total only if it is newer, atomically. The state holds the tie-break hex
without its leading zeros and not the ':' + user id after it (the hash's field is the user):
the member is rebuilt from the two (`member_in`; `lua/state.lua`), a value of ≤ 28 bytes
instead of ~42 for the bench's users, one allocation size class (16 B a user) less. A state
written before (the whole member) is read as it is, so a board need not be rebuilt.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from podium.domain.boards import Board, Order
from podium.domain.ordering import SortKey, tie_width, tiebreak
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

T = TypeVar("T")

# KEYS: a sorted set. ARGV: cursor, count, then user ids. One ZSCAN step: the next cursor
# and the members of those users met in it. Filtered here, so a repair's scan of a big set
# sends back only what it looks for.
MEMBERS_OF = """
local users = {}
for i = 3, #ARGV do users[ARGV[i]] = true end
local step = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local found = {}
for i = 1, #step[2], 2 do
  if users[string.match(step[2][i], '^[^:]*:(.*)$')] then found[#found + 1] = step[2][i] end
end
return {step[1], found}
"""

# A user's flag in the state: in the sorted sets, removed, or hidden (shadow-banned:
# known, with a member for its own view of its rank, but in no set).
RANKED, REMOVED, HIDDEN = "0", "1", "2"


def member(board: Board, t: Total) -> str:
    return member_of_key(board, (0, tiebreak(board, t.subscore, t.reached_at_us), t.user_id))


def member_of_key(board: Board, key: SortKey) -> str:
    return f"{key[1]:0{tie_width(board)}x}:{key[2]}"


def key_from_member(score: float | int, raw: bytes | str) -> SortKey:
    text = raw.decode() if isinstance(raw, bytes) else raw
    tie, _, user = text.partition(":")
    return (int(score), int(tie, 16), user)


def user_of(member: bytes | str) -> str:
    text = member.decode() if isinstance(member, bytes) else member
    return text.partition(":")[2]


def zscore(order: Order, total: int) -> int:
    return -total if order is Order.DESC else total


def flag(t: Total) -> str:
    return REMOVED if t.removed else HIDDEN if t.hidden else RANKED


def details(t: Total) -> str:
    """A total's display name and metadata as stored after its state ('' for none)."""
    if not t.display_name and not t.metadata:
        return ""
    return orjson.dumps([t.display_name, t.metadata]).decode()


def state(board: Board, t: Total) -> str:
    """version|flag|tie|total|partition|offset[|details] — what the hash holds per user; tie is
    the member's tie-break hex without its leading zeros (`held_tie`)."""
    return state_of(t, member(board, t))


def state_of(t: Total, member: str) -> str:
    """`state`, given the total's member (a writer that has it builds it once)."""
    base = f"{t.version}|{flag(t)}|{held_tie(member)}|{t.total}|{t.position.partition}|{t.position.offset}"
    extra = details(t)
    return f"{base}|{extra}" if extra else base


def held_tie(member: str) -> str:
    """What a state holds of a member: its tie-break hex without leading zeros ('0' for 0)."""
    return member.partition(":")[0].lstrip("0") or "0"


def member_in(held: str, user_id: str) -> str:
    """A user's member from what its state holds: the tie-break at its member's width (16 hex
    digits; 30 on a board with a subscore, whose tie-breaks have more than 16: see
    `domain.ordering.is_tiebreak`), ':', the user. A state written before holds the whole member
    (the tie never has a ':')."""
    if ":" in held:
        return held
    return f"{held:0>{16 if len(held) <= 16 else 30}}:{user_id}"


class State:
    """A user's state as the hash holds it (the user's own id rebuilds its member)."""

    __slots__ = ("details", "flag", "member", "position", "total", "version")

    def __init__(self, raw: bytes | str, user_id: str) -> None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        parts = text.split("|", 6)
        self.version = int(parts[0])
        self.flag = parts[1]
        self.member = member_in(parts[2], user_id)
        self.total = int(parts[3])
        self.position = LogPosition(int(parts[4]), int(parts[5]))
        self.details = parts[6] if len(parts) > 6 else ""

    @property
    def in_sets(self) -> bool:
        return self.flag == RANKED

    def display(self) -> tuple[str, str]:
        """(display name, metadata JSON text)."""
        if not self.details:
            return "", ""
        name, metadata = orjson.loads(self.details)
        return str(name), str(metadata)


def parse_state(raw: bytes | str, user_id: str) -> tuple[int, bool, str, int]:
    """version, whether the user is out of the sorted sets, member, total. The writer's hot
    loop, a user each: no `State`, no `LogPosition` (4.6 µs against 1.3 here)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    version, flag_, held, total = text.split("|", 4)[:4]
    return int(version), flag_ != RANKED, member_in(held, user_id), int(total)


class ReadOnlyReplica(BackendUnavailable):
    """A write reached a replica: a region's read-only copy of the index (docs/global.md), or a
    primary Sentinel has just demoted (then a retry finds the new one)."""


async def call(op: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis operation; a lost or timed-out connection becomes BackendUnavailable, a
    write refused by a replica (READONLY) ReadOnlyReplica."""
    import redis.exceptions

    try:
        return await op()
    except redis.exceptions.ReadOnlyError as exc:
        raise ReadOnlyReplica(f"redis: a read-only replica refused a write: {exc}") from exc
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        raise BackendUnavailable(f"redis: {exc}") from exc


async def wait_for_replicas(client: aioredis.Redis, replicas: int, timeout_ms: int, where: str = "redis") -> None:
    """Block until the writes so far on `client` reached `replicas` replicas (Redis WAIT)."""
    if replicas <= 0:
        return
    acked = await call(lambda: client.wait(replicas, timeout_ms))
    if acked < replicas:
        raise BackendUnavailable(f"{where}: {acked} of {replicas} replicas acknowledged in time")


async def members_of(client: aioredis.Redis, script: Any, key: str, users: Sequence[str]) -> list[bytes]:
    """Every member of these users in sorted set `key` (ZSCAN: each member there
    throughout the scan is met at least once)."""
    found: dict[bytes, None] = {}  # ZSCAN may meet a member twice
    cursor: bytes | int = 0
    while True:
        step = functools.partial(script, keys=[key], args=[cursor, 1000, *users], client=client)
        cursor, members = await call(step)
        found.update(dict.fromkeys(members))
        if int(cursor) == 0:
            return list(found)
