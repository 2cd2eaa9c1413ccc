"""The distributed store: Apache Cassandra, the source of truth.

The totals table is written `WITH cdc = true`; Debezium reads its commit log
into the change topic. Each total is written `USING TIMESTAMP <version>`, so
Cassandra's last-write-wins keeps the highest version even if two db-workers
race during a consumer-group rebalance: the store, too, only moves forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable
from podium.plumbing import names
from podium.store.base import AppliedKey, IdempotencyKey, UserKey
from podium.store.cql_values import RowEncoder, batch_of
from podium.store.rows import (
    PLACEHOLDERS,
    TOTAL_COLUMNS,
    batches_by_size,
    board_from_row,
    first_row_from_total,
    later_row_from_total,
    total_from_row,
)

if TYPE_CHECKING:
    from cassandra.cluster import ResponseFuture, Session


# Columns added since the first schema: a keyspace made before gets them (ALTER TABLE).
ADDED_COLUMNS = {
    names.BOARDS_TABLE: ["settings text"],
    names.TOTALS_TABLE: [
        "subscore bigint",
        "best_total bigint",
        "hidden boolean",
        "display_name text",
        "metadata text",
        "region text",
        "steps text",
    ],
    # A port's table (podium/cohorts/cassandra.py): made by the port with every column when
    # missing, so only a keyspace that has it gets the column here.
    names.COHORT_FILL_TABLE: ["frees int"],
}


def schema(keyspace: str, replication: int, key_ttl_s: int) -> list[str]:
    """The DDL, in order. The totals table must exist before Debezium starts."""
    return [
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication}}}",
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.BOARDS_TABLE} "
        "(board text PRIMARY KEY, sort_order text, operator text, settings text)",
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.TOTALS_TABLE} ("
        "board text, slot int, user_id text, total bigint, version bigint, reached_at_us bigint, "
        "log_partition int, log_offset bigint, removed boolean, updated_at_us bigint, "
        "subscore bigint, best_total bigint, hidden boolean, display_name text, metadata text, region text, "
        "steps text, PRIMARY KEY ((board, slot), user_id)) WITH cdc = true",
        # Which boards a user has a total on (a privacy request's delete and export): the totals
        # themselves, found by a storage-attached index on the user. It replaced a user_boards
        # table, one partition a user, whose row was a mutation and a request of its own with
        # every new user's first total, and which Debezium deserialized with the commit-log
        # segment (docs/benchmarks.md, "user_boards dropped from the write path").
        f"CREATE INDEX IF NOT EXISTS {names.TOTALS_BY_USER_INDEX} ON {keyspace}.{names.TOTALS_TABLE} (user_id) "
        "USING 'sai'",
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.APPLIED_KEYS_TABLE} ("
        "board text, key text, applied_at_us bigint, log_partition int, log_offset bigint, "
        f"PRIMARY KEY ((board, key))) WITH default_time_to_live = {key_ttl_s}",
        # One partition a user, the list a set column in one row: replacing it is one
        # atomic row write, and a list of 1,000 ids of 128 bytes stays a small partition.
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.FRIENDS_TABLE} (user_id text PRIMARY KEY, friends set<text>)",
        # API keys (podium/keystore/cassandra.py): a few rows, read by id and cached by each api.
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.KEYS_TABLE} (key_id text PRIMARY KEY, name text, "
        "scope text, digest text, created_at_us bigint, revoked_at_us bigint)",
        # Admin jobs and their leases (podium/jobstore/cassandra.py): a few rows a day, kept a week.
        f"CREATE TABLE IF NOT EXISTS {keyspace}.{names.JOBS_TABLE} (id text PRIMARY KEY, kind text, state text, "
        "owner text, lease_until_us bigint, started_at_us bigint, finished_at_us bigint, done bigint, "
        "total bigint, applied bigint, step text, error text, detail text) WITH default_time_to_live = 604800",
    ]


# A board's totals are spread over SLOTS partitions (by a hash of the user id):
# partitions stay small however big the board, and reading a whole board back
# (rebuild, reconcile) is SLOTS partition reads, never a table scan.
SLOTS = 64


IN_LIMIT = 100  # users in one read
# Partitions a read names times the users it names: the coordinator looks every user up in
# every partition named, so a read of few users a slot over many slots (a small batch) is
# cut before the lookups outgrow the requests saved.
READ_PRODUCT = 800
# Writes go in unlogged batches, each one request (the driver's cost is per request, and
# it is most of a db-worker's CPU), kept under the sizes Cassandra warns about: a batch's
# estimated size under batch_size_warn_threshold (5 KiB), and a batch of rows of several
# partitions (applied_keys: one partition a row), all on one replica, over no
# more than unlogged_batch_across_partitions_warn_threshold partitions. That threshold
# (default 10) guards a coordinator from fanning one batch out to many replicas; these go
# to one, so the stack raises it to 50 (infra/conf/cassandra/cassandra.yaml), and a
# cluster running Podium should too: 1,000 keyed scores' key rows are 20 requests, not 100.
BATCH_BYTES = 4096
BATCH_PARTITIONS = 50
# A batch of one partition's rows (the totals of one (board, slot)) is one mutation, and
# Cassandra checks a batch's size only when it spans several (CASSANDRA-10876): its rows go
# in one request up to this size (~500 totals rows), far under the largest mutation the
# commit log takes (half a segment). A db-worker batch is then one write a partition, not
# one a 4 KiB of it (measured: docs/benchmarks.md, "The db stage: one request a partition").
PARTITION_BATCH_BYTES = 64 * 1024


def slot_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SLOTS


class CassandraStore:
    def __init__(self, session: Session, keyspace: str = names.KEYSPACE, *, key_ttl_s: int = 86400) -> None:
        self._session = session
        self._ks = keyspace
        self._key_ttl_s = key_ttl_s
        self._prepared: dict[str, Any] = {}
        self._encoders: dict[str, RowEncoder] = {}

    @classmethod
    def connect(
        cls,
        hosts: Sequence[str],
        port: int = 9042,
        keyspace: str = names.KEYSPACE,
        *,
        local_dc: str = "datacenter1",
        auth: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> CassandraStore:
        """`auth`: the role and password to log in with (None: a cluster without authentication)."""
        from cassandra import AuthenticationFailed
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
        from cassandra.query import tuple_factory

        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
            request_timeout=20,
            # Rows as plain tuples: the default makes a namedtuple class for every result.
            row_factory=tuple_factory,
        )
        try:
            # Protocol v4: v5 frames every message in checksummed segments whose CRC24 the
            # driver computes in pure Python (about 5 % of a db-worker's CPU), and nothing
            # here needs v5.
            cluster = Cluster(
                list(hosts),
                port=port,
                protocol_version=4,
                execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                auth_provider=PlainTextAuthProvider(*auth) if auth else None,
            )
            session = cluster.connect()
        except NoHostAvailable as exc:
            if any(isinstance(e, AuthenticationFailed) for e in exc.errors.values()):
                # The driver's own message is not repeated: it names the role, and this is enough.
                raise BackendUnavailable(
                    f"cassandra: login refused at {list(hosts)}:{port} (cassandra_username and cassandra_password,"
                    " or the stack's secrets file)"
                ) from None
            raise BackendUnavailable(f"cassandra: no host available at {list(hosts)}:{port}") from exc
        return cls(session, keyspace, **kwargs)

    def ensure_schema(self, replication: int = 1) -> None:
        from cassandra import InvalidRequest

        for statement in schema(self._ks, replication, self._key_ttl_s):
            self._session.execute(statement, timeout=60)
        tables = self._session.cluster.metadata.keyspaces[self._ks].tables
        for table, columns in ADDED_COLUMNS.items():
            if table not in tables:
                continue  # a port's table not made yet: it is made with every column
            meta = tables[table].columns
            for column in columns:
                if column.split()[0] in meta:
                    continue
                with contextlib.suppress(InvalidRequest):  # another process added it first
                    self._session.execute(f"ALTER TABLE {self._ks}.{table} ADD {column}", timeout=60)
        self._wait_for_index()

    def _wait_for_index(self, timeout_s: float = 300.0) -> None:
        """Until the index on totals(user_id) answers: made on a keyspace that already held
        totals, Cassandra builds it from them in the background, and a privacy request before
        the end of the build would be refused."""
        from cassandra import InvalidRequest, ReadFailure

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._session.execute(f"SELECT board FROM {self._ks}.{names.TOTALS_TABLE} WHERE user_id = '' LIMIT 1")
                return
            except (InvalidRequest, ReadFailure):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _statement(self, cql: str) -> Any:
        prepared = self._prepared.get(cql)
        if prepared is None:
            prepared = self._prepared[cql] = self._session.prepare(cql.format(ks=self._ks))
        return prepared

    def _encoder(self, cql: str) -> RowEncoder:
        encoder = self._encoders.get(cql)
        if encoder is None:
            # Rows encoded by Podium, not bound by the driver (podium/store/cql_values.py).
            encoder = self._encoders[cql] = RowEncoder(self._statement(cql))
        return encoder

    async def _execute_batch(self, cql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One unlogged batch of `cql` for each of `rows`: rows of one partition, or of a few
        partitions on one replica, so the batch is one request to a replica that holds
        them all (one request instead of many)."""
        from cassandra.query import BatchType

        await self._execute_statement(self._encoder(cql).batch(rows, BatchType.UNLOGGED), ())

    async def execute_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """One unlogged batch of statements on the keyspace (`{ks}` in each), each prepared
        once and its rows encoded as `_execute_batch`'s: for a table another port keeps,
        statements of one partition (the rank history's points and trims of one (board,
        slot)), so one request and one mutation."""
        from cassandra.query import BatchType

        rows = [(self._encoder(cql), params) for cql, params in statements]
        await self._execute_statement(batch_of(rows, BatchType.UNLOGGED), ())

    async def _execute(self, cql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._execute_statement(self._statement(cql), params)

    async def execute(self, cql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement on the keyspace (`{ks}` in `cql`), prepared once: for the keyspace's
        tables another port keeps (podium/keystore/cassandra.py)."""
        return await self._execute(cql, params)

    async def _execute_statement(self, statement: Any, params: Sequence[Any]) -> list[Any]:
        from cassandra import DriverException

        try:
            future: ResponseFuture = self._session.execute_async(statement, params or None)
        except DriverException as exc:
            raise BackendUnavailable(f"cassandra: {exc}") from exc
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Any]] = loop.create_future()

        def settle(result: list[Any] | None, error: BaseException | None) -> None:
            if done.done():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result or [])

        pages: list[Any] = []

        def ok(rows: Any) -> None:  # on a driver thread
            # Every page: the driver hands a callback one page (5,000 rows) at a time.
            pages.extend(rows or [])
            if future.has_more_pages:
                future.start_fetching_next_page()
            else:
                loop.call_soon_threadsafe(settle, pages, None)

        def failed(exc: BaseException) -> None:
            loop.call_soon_threadsafe(settle, None, BackendUnavailable(f"cassandra: {type(exc).__name__}: {exc}"))

        future.add_callbacks(ok, failed)
        return await done

    async def create_board(self, board: Board) -> tuple[Board, bool]:
        rows = await self._execute(
            "INSERT INTO {ks}.boards (board, sort_order, operator, settings) VALUES (?, ?, ?, ?) IF NOT EXISTS",
            (board.name, board.order.value, board.operator.value, orjson.dumps(board.settings_json()).decode()),
        )
        row = rows[0]
        if row[0]:  # [applied]
            return board, True
        existing = await self.get_board(board.name)
        assert existing is not None
        return existing, False

    async def get_board(self, name: str) -> Board | None:
        rows = await self._execute(
            "SELECT board, sort_order, operator, settings FROM {ks}.boards WHERE board = ?", (name,)
        )
        if not rows:
            return None
        return board_from_row(*rows[0])

    async def update_board(self, board: Board) -> None:
        settings = orjson.dumps(board.settings_json()).decode()
        await self._execute("UPDATE {ks}.boards SET settings = ? WHERE board = ?", (settings, board.name))

    async def delete_board(self, names_: Sequence[str]) -> None:
        for name in names_:
            await self._execute("DELETE FROM {ks}.boards WHERE board = ?", (name,))
            # Partition deletes: the change feed carries none (see cdc/debezium.py); the
            # caller drops the board's rank index itself.
            await asyncio.gather(
                *(
                    self._execute("DELETE FROM {ks}.totals WHERE board = ? AND slot = ?", (name, s))
                    for s in range(SLOTS)
                )
            )

    async def user_boards(self, user_id: str) -> list[str]:
        # One query on the index: every node's token ranges (a privacy request is rare), each
        # row a board the user has a total on (one slot a user on a board), every page read.
        rows = await self._execute("SELECT board FROM {ks}.totals WHERE user_id = ?", (user_id,))
        return sorted({r[0] for r in rows})

    async def load_totals(self, users: Sequence[UserKey]) -> dict[UserKey, Total]:
        # One request for the partitions (board, slot) of a replica, not one a partition:
        # `slot IN ? AND user_id IN ?` over a few slots and up to IN_LIMIT of their users,
        # sent to the replica that holds them. The coordinator reads each partition for
        # the users named (a user's row is only ever in its own slot, so the product of
        # the two lists finds nothing else). A batch of a thousand users of a board was 64
        # requests, one a slot; it is about 10, at the same partition reads for Cassandra
        # and a third of the driver's CPU (docs/benchmarks.md, "The db-worker's requests").
        cql = f"SELECT {TOTAL_COLUMNS} FROM {{ks}}.totals WHERE board = ? AND slot IN ? AND user_id IN ?"
        by_partition: dict[tuple[str, int], list[str]] = defaultdict(list)
        for board, user_id in set(users):
            by_partition[(board, slot_of(user_id))].append(user_id)
        by_replica: dict[tuple[str, Any], list[tuple[int, list[str]]]] = defaultdict(list)
        metadata = self._session.cluster.metadata
        for (board, slot), ids in sorted(by_partition.items()):
            replicas = metadata.get_replicas(self._ks, _slot_key(board, slot))
            by_replica[(board, replicas[0] if replicas else None)].append((slot, ids))
        statement = self._statement(cql)
        reads = []
        for (board, _), partitions in by_replica.items():
            for slots, ids in _packed(partitions, IN_LIMIT, READ_PRODUCT):
                bound = statement.bind((board, slots, ids))
                # Routed by the first slot's partition (the driver would hash the bound list).
                bound._routing_key = _slot_key(board, slots[0])
                reads.append(self._execute_statement(bound, ()))
        found = {}
        for rows in await asyncio.gather(*reads):
            for row in rows:
                t = total_from_row(row)
                found[(t.board, t.user_id)] = t
        return found

    async def applied_keys(self, keys: Sequence[IdempotencyKey], since_us: int) -> dict[IdempotencyKey, LogPosition]:
        # One partition a key, but not one request a key: the keys of a board whose
        # partitions live on one replica go in one `key IN ?` read sent to that replica
        # (token-aware: the first key routes it), IN_LIMIT at a time. A request costs
        # Cassandra far more than a partition read inside it (measured: docs/benchmarks.md,
        # "The db stage's writes made cheaper").
        cql = (
            "SELECT board, key, applied_at_us, log_partition, log_offset FROM {ks}.applied_keys "
            "WHERE board = ? AND key IN ?"
        )
        by_replica: dict[tuple[str, Any], list[str]] = defaultdict(list)
        metadata = self._session.cluster.metadata
        for board, key in dict.fromkeys(keys):
            replicas = metadata.get_replicas(self._ks, _routing_key((board, key)))
            by_replica[(board, replicas[0] if replicas else None)].append(key)
        statement = self._statement(cql)
        reads = []
        for (board, _), ids in by_replica.items():
            for i in range(0, len(ids), IN_LIMIT):
                bound = statement.bind((board, ids[i : i + IN_LIMIT]))
                # The driver would route by the bound list's bytes: give it the first key's
                # partition. BoundStatement has no setter; its routing_key reads this first.
                bound._routing_key = _routing_key((board, ids[i]))
                reads.append(self._execute_statement(bound, ()))
        results = await asyncio.gather(*reads)
        found = {}
        for rows in results:
            for board, key, applied_at_us, partition, offset in rows:
                if applied_at_us >= since_us:
                    found[(board, key)] = LogPosition(partition, offset)
        return found

    async def write_totals(self, totals: Sequence[Total], keys: Sequence[AppliedKey]) -> None:
        # Keys first, then totals: see AppliedKey for why a crash in between is safe.
        await self._write_spread(
            "INSERT INTO {ks}.applied_keys (board, key, applied_at_us, log_partition, log_offset) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                ((k.board, k.key), (k.board, k.key, k.applied_at_us, k.position.partition, k.position.offset))
                for k in keys
            ],
        )
        # One unlogged batch per partition (board, slot), or several for a big one, each
        # write with its version as its timestamp. A first total leaves its defaults unwritten.
        from cassandra.query import UNSET_VALUE

        cql = f"INSERT INTO {{ks}}.totals (slot, {TOTAL_COLUMNS}) VALUES (?, {PLACEHOLDERS}) USING TIMESTAMP ?"
        by_partition: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
        for t in totals:
            slot = slot_of(t.user_id)
            row = first_row_from_total(t, UNSET_VALUE) if t.version == 1 else later_row_from_total(t, UNSET_VALUE)
            by_partition[(t.board, slot)].append((slot, *row, t.version))
        batches = [batch for rows in by_partition.values() for batch in batches_by_size(rows, PARTITION_BATCH_BYTES)]
        await asyncio.gather(*(self._execute_batch(cql, rows) for rows in batches))

    async def _write_spread(self, cql: str, rows: Sequence[tuple[tuple[str, ...], tuple[Any, ...]]]) -> None:
        """Rows of a table with one partition a row (`rows`: each row's partition key
        and its parameters), in unlogged batches of a few partitions on one replica."""
        by_replica: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
        metadata = self._session.cluster.metadata
        for key, params in rows:
            replicas = metadata.get_replicas(self._ks, _routing_key(key))
            by_replica[replicas[0] if replicas else None].append(params)
        batches = [
            batch
            for spread in by_replica.values()
            for i in range(0, len(spread), BATCH_PARTITIONS)
            for batch in batches_by_size(spread[i : i + BATCH_PARTITIONS], BATCH_BYTES)
        ]
        await asyncio.gather(*(self._execute_batch(cql, batch) for batch in batches))

    async def forget_keys(self, before_us: int) -> int:
        return 0  # the applied_keys table expires rows itself (default_time_to_live)

    async def board_names(self) -> list[str]:
        return sorted(row[0] for row in await self._execute("SELECT board FROM {ks}.boards"))

    async def boards(self) -> list[Board]:
        rows = await self._execute("SELECT board, sort_order, operator, settings FROM {ks}.boards")
        return sorted((board_from_row(*row) for row in rows), key=lambda b: b.name)

    async def has_totals(self, board: str) -> bool:
        # One request for the board's SLOTS partitions (the coordinator reads them), where
        # totals_of makes SLOTS requests from here even for an empty board.
        cql = "SELECT user_id FROM {ks}.totals WHERE board = ? AND slot IN ? LIMIT 1"
        return bool(await self._execute(cql, (board, list(range(SLOTS)))))

    async def count_totals(self, board: str) -> int:
        cql = "SELECT COUNT(*) FROM {ks}.totals WHERE board = ? AND slot = ?"
        counts = await asyncio.gather(*(self._execute(cql, (board, slot)) for slot in range(SLOTS)))
        return sum(int(rows[0][0]) for rows in counts)

    async def totals_of(self, board: str, chunk_size: int) -> AsyncIterator[list[Total]]:
        # One partition after another, each paged by user id: SLOTS partition reads.
        cql = f"SELECT {TOTAL_COLUMNS} FROM {{ks}}.totals WHERE board = ? AND slot = ? AND user_id > ? LIMIT ?"
        for slot in range(SLOTS):
            after = ""
            while True:
                rows = await self._execute(cql, (board, slot, after, chunk_size))
                if not rows:
                    break
                yield [total_from_row(r) for r in rows]
                after = rows[-1][1]

    async def friends(self, user_id: str) -> list[str]:
        rows = await self._execute("SELECT friends FROM {ks}.friends WHERE user_id = ?", (user_id,))
        return sorted(rows[0][0] or ()) if rows else []

    async def set_friends(self, user_id: str, friends: Sequence[str]) -> None:
        await self._execute("UPDATE {ks}.friends SET friends = ? WHERE user_id = ?", (set(friends), user_id))

    async def add_friend(self, user_id: str, friend_id: str) -> None:
        await self._execute("UPDATE {ks}.friends SET friends = friends + ? WHERE user_id = ?", ({friend_id}, user_id))

    async def remove_friend(self, user_id: str, friend_id: str) -> None:
        await self._execute("UPDATE {ks}.friends SET friends = friends - ? WHERE user_id = ?", ({friend_id}, user_id))

    async def friend_lists(self) -> AsyncIterator[tuple[str, list[str]]]:
        # A full scan in token order, a page at a time: only a rebuild of the social index reads it.
        cql = "SELECT user_id, friends, token(user_id) FROM {ks}.friends WHERE token(user_id) > ? LIMIT 1000"
        after = -(2**63)  # below every token Murmur3 gives a key
        while rows := await self._execute(cql, (after,)):
            for user_id, friends, _ in rows:
                if friends:
                    yield user_id, sorted(friends)
            after = rows[-1][2]

    def shutdown(self) -> None:
        self._session.cluster.shutdown()

    async def close(self) -> None:
        await asyncio.to_thread(self.shutdown)


def _slot_key(board: str, slot: int) -> bytes:
    """The totals partition (board, slot)'s key as the driver routes it (the composite form)."""
    name = board.encode()
    return len(name).to_bytes(2, "big") + name + b"\x00" + b"\x00\x04" + slot.to_bytes(4, "big", signed=True) + b"\x00"


def _packed(partitions: Sequence[tuple[int, list[str]]], limit: int, product: int) -> list[tuple[list[int], list[str]]]:
    """Partitions' (slot, users) packed into reads of at most `limit` users and `product`
    slots × users, each read the slots of its users: whole partitions together while they
    fit, a bigger one cut alone."""
    reads: list[tuple[list[int], list[str]]] = []
    slots: list[int] = []
    ids: list[str] = []
    for slot, users in partitions:
        for i in range(0, len(users), limit):
            part = users[i : i + limit]
            if ids and (len(ids) + len(part) > limit or (len(slots) + 1) * (len(ids) + len(part)) > product):
                reads.append((slots, ids))
                slots, ids = [], []
            slots.append(slot)
            ids.extend(part)
    if ids:
        reads.append((slots, ids))
    return reads


def _routing_key(key: tuple[str, ...]) -> bytes:
    """A partition key of text columns as the driver routes it: one column's UTF-8 bytes,
    or each column's length-prefixed and 0-terminated (the composite form)."""
    if len(key) == 1:
        return key[0].encode()
    parts = [k.encode() for k in key]
    return b"".join(len(p).to_bytes(2, "big") + p + b"\x00" for p in parts)
