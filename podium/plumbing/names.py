"""Every topic, table, key and channel name Podium uses is built here."""

from __future__ import annotations

# Kafka
INGEST_TOPIC = "scores.ingest"
DB_WORKER_GROUP = "podium-db-worker"
RANK_WORKER_GROUP = "podium-rank-worker"


def mirrored_ingest_topic(region: str) -> str:
    """A region's ingest topic as MirrorMaker 2 mirrors it home (DefaultReplicationPolicy:
    `<source cluster alias>.<topic>`; the alias is the region's name)."""
    return f"{region}.{INGEST_TOPIC}"


# Cassandra
KEYSPACE = "podium"
TOTALS_TABLE = "totals"
BOARDS_TABLE = "boards"
APPLIED_KEYS_TABLE = "applied_keys"
FRIENDS_TABLE = "friends"
# The storage-attached index on totals(user_id): which boards a user has a total on.
TOTALS_BY_USER_INDEX = "totals_by_user"
KEYS_TABLE = "api_keys"
JOBS_TABLE = "jobs"
# Tournaments (podium/tournaments/): who holds a place in a period, and each player's attempts;
# which periods of a board and which users of a period have rows (what a deleted board drops).
TOURNAMENT_SLOTS_TABLE = "tournament_slots"
TOURNAMENT_PLAYERS_TABLE = "tournament_players"
TOURNAMENT_ATTEMPTS_TABLE = "tournament_attempts"
TOURNAMENT_PERIODS_TABLE = "tournament_periods"
TOURNAMENT_ATTEMPTERS_TABLE = "tournament_attempters"
# Cohorts (podium/cohorts/): each cohort's numbered seats, each user's seat, the first cohort with
# room, and every cohort of a board that took a seat.
COHORT_SEATS_TABLE = "cohort_seats"
COHORT_USERS_TABLE = "cohort_users"
COHORT_FILL_TABLE = "cohort_fill"
COHORT_LIST_TABLE = "cohort_list"
# Rank history (podium/history/): each user's points on each stored board, newest first,
# a partition a (board, slot); "rank_history" (a partition a user) was its table before.
RANK_HISTORY_TABLE = "rank_history_slots"
# Webhooks (podium/webhooks/): the webhooks set, and every delivery owed them.
WEBHOOKS_TABLE = "webhooks"
WEBHOOK_DELIVERIES_TABLE = "webhook_deliveries"

# Debezium writes each table's changes to "<topic prefix>.<keyspace>.<table>".
CHANGES_TOPIC_PREFIX = "scores.changes"


def changes_topic(keyspace: str = KEYSPACE) -> str:
    return f"{CHANGES_TOPIC_PREFIX}.{keyspace}.{TOTALS_TABLE}"


# Redis. The board sits in a hash tag ({...}) so all of a board's keys share a
# Redis Cluster slot and one Lua script can touch them together.
REDIS_PREFIX = "podium"


def _board_key(board: str, *parts: object) -> str:
    return ":".join([f"{REDIS_PREFIX}:{{{board}}}", *map(str, parts)])


def rank_key(board: str) -> str:
    """Sorted set: one member per ranked user, in rank order."""
    return _board_key(board, "rank")


def users_key(board: str) -> str:
    """Hash: user id → the user's newest total, version and log position (tombstones too)."""
    return _board_key(board, "users")


# The sharded rank index (podium/index/sharded/): a board's bucket map, users,
# pending members, writer leases and split lock live on its home shard; each
# bucket is a sorted set, with its fence and trim mark, on the shard the map
# places it on.
def bucket_map_key(board: str) -> str:
    return _board_key(board, "buckets")


def bucket_writes_key(board: str, second: int) -> str:
    return _board_key(board, "writes", second)


def bucket_key(board: str, bucket_id: int) -> str:
    return _board_key(board, "bucket", bucket_id)


def bucket_fence_key(board: str, bucket_id: int) -> str:
    """The map epoch from which on the bucket's set accepts writes (raised by the mover)."""
    return _board_key(board, "bucket", bucket_id, "fence")


def bucket_trim_key(board: str, bucket_id: int) -> str:
    """The map epoch of the last members the mover took out of the bucket's set: a reader
    holding an older map must read again."""
    return _board_key(board, "bucket", bucket_id, "trimmed")


def board_changes_key(board: str) -> str:
    """A number raised whenever members may change other than under a newer map: before a
    batch moves members, after a repair or a writer drops strays. Reads keep segment
    counts only while it, the map and the board's quiet (no lease, no lock) hold."""
    return _board_key(board, "changes")


def writers_key(board: str) -> str:
    return _board_key(board, "writers")


def split_lock_key(board: str) -> str:
    return _board_key(board, "splitting")


def group_sizes_key(board: str) -> str:
    """Hash, dense-tie boards only: 'score|subscore' → how many users hold that pair."""
    return _board_key(board, "groupsizes")


def groups_key(board: str) -> str:
    """Sorted set, dense-tie boards only: the distinct (total, subscore) pairs ranked."""
    return _board_key(board, "groups")


def details_flag_key(board: str) -> str:
    """Set once any user of the board has a display name or metadata: pages then read them."""
    return _board_key(board, "hasdetails")


def intents_key(board: str) -> str:
    """Hash: writer → the batch it is moving members for, until it commits (the sharded
    index's general path: what a crash between move and commit left is found from it)."""
    return _board_key(board, "intents")


def homes_key() -> str:
    """Hash on the first shard: board → its home shard, fixed when the board is first written
    (adding shards must never move a board's home)."""
    return f"{REDIS_PREFIX}:homes"


# Rebuilds (podium/index/generations.py): a board's index lives under a generation; a
# rebuild fills the next one while the current one serves, then swaps. Board ids never
# hold '~', so a generation's storage name cannot be another board's.
def generation_board(board: str, generation: int) -> str:
    """The name a board's index is stored under in `generation` (0: the board's own)."""
    return board if generation == 0 else f"{board}~g{generation}"


def board_keys_pattern(board: str) -> str:
    """A SCAN pattern matching every key of `board` (and no other board's)."""
    return _board_key(board, "*")


def generations_key() -> str:
    """Hash on the first shard: board → 'current|rebuilding|last' generation (rebuilding −1: none)."""
    return f"{REDIS_PREFIX}:generations"


# The social index (podium/social/redis.py). Ids sit in braces, which no id holds, so
# no two users' or boards' keys can meet. Its scripts build these same names from
# SOCIAL_PREFIX: which followers' friends boards a change reaches is known only there.
SOCIAL_PREFIX = f"{REDIS_PREFIX}:social"


def friends_key(user_id: str) -> str:
    """Set: the users `user_id` has on their friend list."""
    return f"{SOCIAL_PREFIX}:friends:{{{user_id}}}"


def followers_key(user_id: str) -> str:
    """Set: the users who have `user_id` on their friend list (the reverse edges)."""
    return f"{SOCIAL_PREFIX}:followers:{{{user_id}}}"


def joined_key() -> str:
    """Set: on a joining social shard, the users whose list the processes wrote there."""
    return f"{SOCIAL_PREFIX}:joined"


def followed_key() -> str:
    """Set: users someone on this shard follows (a user with a follower set here); kept by the
    friend-list script, so an apply reads no follower set for anyone else."""
    return f"{SOCIAL_PREFIX}:followed"


def followed_known_key() -> str:
    """String: set once followed_key is whole on this shard (learned from the follower sets
    an index written before it was kept already holds)."""
    return f"{SOCIAL_PREFIX}:followed:known"


def heavy_key() -> str:
    """Set: users with more followers than the fan-out cap, read at query time."""
    return f"{SOCIAL_PREFIX}:heavy"


def social_totals_key(board: str) -> str:
    """Hash: user → 'version|removed|member|score', the newest total the social index saw."""
    return f"{SOCIAL_PREFIX}:totals:{{{board}}}"


def user_boards_key(user_id: str) -> str:
    """Set: the boards the user held a total on, as a version before kept them (one key a
    user, written with every total); still read beside board_lists_key, written no more."""
    return f"{SOCIAL_PREFIX}:boards:{{{user_id}}}"


def board_lists_key() -> str:
    """Hash: user → the boards they hold a live total on, space-separated (what a new
    follower's boards need); written only when a board turns live or removed for the user."""
    return f"{SOCIAL_PREFIX}:boardlists"


def friends_board_key(board: str, user_id: str) -> str:
    """Sorted set: the user's precomputed friends board on `board`, members as in rank_key."""
    return f"{SOCIAL_PREFIX}:board:{{{board}}}:{{{user_id}}}"


# `wait=true` across processes (podium/visibility/redis.py): per board, the channel on which
# rank-workers say which users' totals they have applied, up to which log position.
VISIBILITY_PREFIX = f"{REDIS_PREFIX}:visible"


def visibility_channel(board: str) -> str:
    """Pub/sub: JSON `[[user, partition, offset], …]`, the totals a rank-worker applied."""
    return f"{VISIBILITY_PREFIX}:{{{board}}}"


# The live hub (podium/live/redis.py): per board a sequence counter, the bounded history
# of numbered changes and the pub/sub channel every api process listens on.
LIVE_PREFIX = f"{REDIS_PREFIX}:live"


def live_seq_key(board: str) -> str:
    """String: the board's newest sequence number (INCR)."""
    return f"{LIVE_PREFIX}:{{{board}}}:seq"


def live_history_key(board: str) -> str:
    """List: the board's newest numbered changes (JSON), oldest first, trimmed to the history size."""
    return f"{LIVE_PREFIX}:{{{board}}}:history"


def live_channel(board: str) -> str:
    """Pub/sub channel: each publish is one message, a JSON array of numbered changes."""
    return f"{LIVE_PREFIX}:{{{board}}}:changes"


# Limits (podium/limits/redis.py), on the live hub's Redis so every api process shares them.
LIMITS_PREFIX = f"{REDIS_PREFIX}:limits"


def rate_key(name: str) -> str:
    """String: a limited name's GCRA state (e.g. "key:<id>", "address:<host>")."""
    return f"{LIMITS_PREFIX}:rate:{{{name}}}"


def submissions_key(board: str, user_id: str) -> str:
    """Sorted set: the user's submission ids counted on the board in the last minute (→ ms)."""
    return f"{LIMITS_PREFIX}:submissions:{{{board}}}:{user_id}"
