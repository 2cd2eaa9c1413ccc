from __future__ import annotations

from pathlib import Path

import pytest

from podium.errors import InvalidInput
from podium.settings import Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.data, s.profile) == ("127.0.0.1", 8000, Path(".podium"), "embedded")


def test_env_then_flags() -> None:
    env = {"PODIUM_PORT": "9001", "PODIUM_DATA": "/tmp/x", "PODIUM_WAIT_TIMEOUT_S": "2.5"}
    s = Settings.from_env(env, port=9002)
    assert (s.port, s.data, s.wait_timeout_s) == (9002, Path("/tmp/x"), 2.5)


@pytest.mark.parametrize(
    "env",
    [
        {"PODIUM_PORT": "x"},
        {"PODIUM_PORT": "70000"},
        {"PODIUM_PROFILE": "cloud"},
        {"PODIUM_SQLITE_SYNC": "y"},
        {"PODIUM_JOB_LEASE_S": "0"},  # a job no process could hold
        {"PODIUM_JOB_LEASE_S": "nan"},
        {"PODIUM_DB_WORKER_BATCH": "0"},  # a db-worker that could take nothing
    ],
)
def test_bad_settings_are_refused_clearly(env: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        Settings.from_env(env)


def test_a_settings_file_under_env_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "podium.toml"
    path.write_text('profile = "distributed"\nkafka_bootstrap = "k1:9092,k2:9092"\nport = 9000\nwait_timeout_s = 3\n')
    s = Settings.from_env({"PODIUM_SETTINGS": str(path), "PODIUM_PORT": "9001"}, port=None)
    assert (s.profile, s.kafka_bootstrap, s.port, s.wait_timeout_s) == ("distributed", "k1:9092,k2:9092", 9001, 3.0)
    assert Settings.from_env({}, file=path, port=9002).port == 9002


@pytest.mark.parametrize("text", ["colour = 1", "port = [", 'port = "x"'])
def test_a_bad_settings_file_is_refused_clearly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "podium.toml"
    path.write_text(text)
    with pytest.raises(InvalidInput):
        Settings.from_env({}, file=path)


def test_a_missing_settings_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        Settings.from_env({"PODIUM_SETTINGS": str(tmp_path / "nope.toml")})


def test_one_region_is_its_own_home_and_reads_no_mirrors() -> None:
    from podium.bootstrap import ingest_topics

    s = Settings.from_env({})
    assert (s.region, s.is_home) == ("local", True)
    assert ingest_topics(s) == ["scores.ingest"]


def test_the_home_db_worker_reads_every_other_regions_mirrored_ingest_topic() -> None:
    from podium.bootstrap import ingest_topics

    env = {"PODIUM_REGION": "us", "PODIUM_HOME_REGION": "us", "PODIUM_REGIONS": "us,eu,ap"}
    home = Settings.from_env(env)
    assert home.is_home
    assert ingest_topics(home) == ["scores.ingest", "eu.scores.ingest", "ap.scores.ingest"]
    away = Settings.from_env({**env, "PODIUM_REGION": "eu"})
    assert not away.is_home
    assert ingest_topics(away) == ["scores.ingest"]  # no db-worker outside home; its own topic only


def test_the_home_db_worker_knows_each_topics_region_and_one_region_records_none() -> None:
    """What one region per user is checked against (docs/global.md): the topic a record came from."""
    from podium.bootstrap import topic_regions

    env = {"PODIUM_REGION": "us", "PODIUM_HOME_REGION": "us", "PODIUM_REGIONS": "us,eu,ap"}
    assert topic_regions(Settings.from_env(env)) == {
        "scores.ingest": "us",
        "eu.scores.ingest": "eu",
        "ap.scores.ingest": "ap",
    }
    assert topic_regions(Settings.from_env({})) == {}
    assert topic_regions(Settings.from_env({"PODIUM_REGION": "us", "PODIUM_REGIONS": "us"})) == {}


@pytest.mark.parametrize(
    "env", [{"PODIUM_REGION": "EU West"}, {"PODIUM_REGIONS": "us,eu.1"}, {"PODIUM_HOME_REGION": "-"}]
)
def test_region_names_that_cannot_name_a_topic_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="region"):
        Settings.from_env(env)


def test_the_distributed_profile_refuses_auth_off_unless_a_dev_run() -> None:
    with pytest.raises(InvalidInput) as refused:
        Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_AUTH": "off"})
    assert "PODIUM_AUTH" in refused.value.message and "PODIUM_DEV" in refused.value.message
    with pytest.raises(InvalidInput):
        Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_AUTH": "off", "PODIUM_DEV": "0"})
    assert Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_AUTH": "off", "PODIUM_DEV": "1"}).dev
    assert Settings.from_env({"PODIUM_AUTH": "off"}).auth == "off"  # embedded: a dev run by nature
    with pytest.raises(InvalidInput):
        Settings.from_env({"PODIUM_AUTH": "maybe"})
    with pytest.raises(InvalidInput):
        Settings.from_env({"PODIUM_DEV": "perhaps"})


def test_a_refused_start_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from podium.cli import main

    monkeypatch.setenv("PODIUM_AUTH", "off")
    monkeypatch.delenv("PODIUM_DEV", raising=False)
    assert main(["serve", "--profile", "distributed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PODIUM_AUTH" in err and "PODIUM_DEV" in err


def test_the_api_key_setting_stays_out_of_repr() -> None:
    assert "pk_secret" not in repr(Settings(api_key="pk_secret"))


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "memory://"),
        ({"PODIUM_PROFILE": "distributed", "PODIUM_AUTH": "off", "PODIUM_DEV": "1"}, "rank-shard://"),
        # The older name, an alias: the same hub as before.
        ({"PODIUM_LIVE_REDIS_URL": "redis://10.0.0.5:6379/1"}, "redis://10.0.0.5:6379/1"),
        ({"PODIUM_LIVE_HUB": "redis://10.0.0.5:6379/1"}, "redis://10.0.0.5:6379/1"),
        ({"PODIUM_LIVE_HUB": "rank-shard://"}, "rank-shard://"),
        ({"PODIUM_LIVE_HUB": "redis://h:1", "PODIUM_LIVE_REDIS_URL": "redis://h:1"}, "redis://h:1"),
    ],
)
def test_one_setting_says_where_the_live_hub_runs(env: dict[str, str], url: str) -> None:
    assert Settings.from_env(env).live_hub_url == url


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PODIUM_LIVE_HUB": "kafka://k:9092"}, "use one of memory://"),
        ({"PODIUM_LIVE_HUB": "redis://a:1", "PODIUM_LIVE_REDIS_URL": "redis://b:1"}, "name two hubs"),
        (
            {"PODIUM_LIVE_HUB": "memory://", "PODIUM_PROFILE": "distributed", "PODIUM_AUTH": "off", "PODIUM_DEV": "1"},
            "must be shared",
        ),
    ],
)
def test_a_live_hub_that_cannot_work_is_refused(env: dict[str, str], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        Settings.from_env(env)


def test_the_live_hub_is_the_adapter_its_url_names() -> None:
    from podium.bootstrap import live_hub
    from podium.live.memory import MemoryLiveHub
    from podium.live.redis import RedisLiveHub

    assert isinstance(live_hub(Settings()), MemoryLiveHub)
    assert isinstance(live_hub(Settings(live_hub="redis://127.0.0.1:1/0")), RedisLiveHub)  # opens nothing yet
    assert isinstance(live_hub(Settings(live_redis_url="redis://127.0.0.1:1/0")), RedisLiveHub)


def test_the_db_worker_batch_is_a_setting() -> None:
    assert Settings.from_env({}).db_worker_batch == 5000
    assert Settings.from_env({"PODIUM_DB_WORKER_BATCH": "1000"}).db_worker_batch == 1000
