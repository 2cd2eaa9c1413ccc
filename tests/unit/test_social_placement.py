"""Social shards place users by rendezvous hashing: stable, spread, and adding a shard
moves only the users it takes."""

from podium.social.placement import home_of, shard_label

USERS = [f"user{i}" for i in range(6000)]


def test_adding_a_shard_moves_only_the_users_it_takes() -> None:
    before = ["social0", "social1"]
    after = [*before, "social2"]
    moved = [u for u in USERS if before[home_of(u, before)] != after[home_of(u, after)]]
    assert all(after[home_of(u, after)] == "social2" for u in moved)
    assert 0.25 < len(moved) / len(USERS) < 0.42  # about a third


def test_users_spread_over_the_shards() -> None:
    labels = ["social0", "social1", "social2"]
    counts = [0, 0, 0]
    for u in USERS:
        counts[home_of(u, labels)] += 1
    assert min(counts) > len(USERS) / 3 * 0.9


def test_a_urls_password_does_not_move_anyone() -> None:
    assert shard_label("redis://podium:old@127.0.0.1:6391/0") == shard_label("redis://podium:new@127.0.0.1:6391/0")
    assert shard_label("redis://127.0.0.1:6391/0") == "redis://127.0.0.1:6391/0"
    assert shard_label("social0") == "social0"
