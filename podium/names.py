"""Every topic, table, key and channel name Podium uses is built here."""

from __future__ import annotations

# Kafka
INGEST_TOPIC = "scores.ingest"
DB_WORKER_GROUP = "podium-db-worker"
RANK_WORKER_GROUP = "podium-rank-worker"

# Cassandra
KEYSPACE = "podium"
TOTALS_TABLE = "totals"
BOARDS_TABLE = "boards"
APPLIED_KEYS_TABLE = "applied_keys"

# Debezium writes each table's changes to "<topic prefix>.<keyspace>.<table>".
CHANGES_TOPIC_PREFIX = "scores.changes"


def changes_topic(keyspace: str = KEYSPACE) -> str:
    return f"{CHANGES_TOPIC_PREFIX}.{keyspace}.{TOTALS_TABLE}"


# Redis. The board sits in a hash tag ({...}) so all of a board's keys share a
# Redis Cluster slot and one Lua script can touch them together.
REDIS_PREFIX = "podium"


def rank_key(board: str) -> str:
    """Sorted set: one member per ranked user, in rank order."""
    return f"{REDIS_PREFIX}:{{{board}}}:rank"


def users_key(board: str) -> str:
    """Hash: user id → the user's newest total, version and log position (tombstones too)."""
    return f"{REDIS_PREFIX}:{{{board}}}:users"
