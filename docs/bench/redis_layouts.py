"""What one user costs in Redis memory under other layouts of the rank index's data
(docs/benchmarks.md, `redis_bytes_per_user`): 100,000 users loaded each way into an empty
Redis, measured as the `used_memory` delta ÷ users.

    redis-server --port 7299 --save '' --appendonly no --daemonize yes
    .venv/bin/python docs/bench/redis_layouts.py 7299
    redis-cli -p 7299 shutdown nosave

It FLUSHALLs the server it is given: never point it at one that holds anything.
"""

from __future__ import annotations

import random
import struct
import sys
import zlib
from collections.abc import Callable

import redis

USERS = 100_000
PER_HASH = 64  # users per small hash: under hash-max-listpack-entries (128), so a listpack


def main(port: int) -> None:
    r = redis.Redis(port=port)
    rng = random.Random(1)
    users = [f"user{i}" for i in range(USERS)]
    totals = [int(rng.paretovariate(1.2) * 100) for _ in range(USERS)]
    ties = [rng.randrange(2**60) for _ in range(USERS)]

    def measure(name: str, load: Callable[[redis.client.Pipeline], None]) -> None:
        r.flushall()
        before = r.info("memory")["used_memory"]
        pipe = r.pipeline(transaction=False)
        load(pipe)
        pipe.execute()
        print(f"{name:58s} {(r.info('memory')['used_memory'] - before) / USERS:6.1f} B/user")

    def zset(member: Callable[[int], bytes | str]) -> Callable[[redis.client.Pipeline], None]:
        return lambda p: [p.zadd("z", {member(i): -totals[i]}) for i in range(USERS)]  # type: ignore[func-returns-value]

    def state(i: int, with_member: bool) -> str:
        member = f"{ties[i]:016x}:{users[i]}" if with_member else f"{ties[i]:016x}"
        return f"1|0|{member}|{totals[i]}|0|{i}"

    def one_hash(with_member: bool) -> Callable[[redis.client.Pipeline], None]:
        return lambda p: [p.hset("h", users[i], state(i, with_member)) for i in range(USERS)]  # type: ignore[func-returns-value]

    def small_hashes(with_member: bool) -> Callable[[redis.client.Pipeline], None]:
        n = USERS // PER_HASH
        return lambda p: [  # type: ignore[func-returns-value]
            p.hset(f"h:{zlib.crc32(users[i].encode()) % n}", users[i], state(i, with_member)) for i in range(USERS)
        ]

    measure("plain sorted set, members are user ids", zset(lambda i: users[i]))
    measure("sorted set, members hex tie-break:user (today)", zset(lambda i: f"{ties[i]:016x}:{users[i]}"))
    measure(
        "sorted set, members binary tie-break:user",
        zset(lambda i: struct.pack(">Q", ties[i]) + b":" + users[i].encode()),
    )
    measure("one hash of states (today)", one_hash(True))
    measure("one hash of states without the member", one_hash(False))
    measure(f"small hashes of ~{PER_HASH} states (listpacks)", small_hashes(True))
    measure(f"small hashes of ~{PER_HASH} states without the member", small_hashes(False))


if __name__ == "__main__":
    main(int(sys.argv[1]))
