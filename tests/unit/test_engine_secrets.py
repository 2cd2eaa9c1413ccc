"""The engines' passwords: found in the stack's secrets file, never shown in a repr or a log line."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from podium.errors import InvalidInput
from podium.plumbing import logs
from podium.settings import Settings

REDIS_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CASSANDRA_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(
        f'redis_username = "podium"\nredis_password = "{REDIS_SECRET}"\n'
        f'cassandra_username = "podium"\ncassandra_password = "{CASSANDRA_SECRET}"\n'
        'cassandra_admin_password = "not-podiums"\n'
    )
    return path


def test_the_distributed_profile_reads_the_stack_secrets(secrets_file: Path) -> None:
    s = Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_STACK_SECRETS": str(secrets_file)})
    assert s.redis_auth == {"username": "podium", "password": REDIS_SECRET}
    assert s.cassandra_auth == ("podium", CASSANDRA_SECRET)


def test_set_credentials_win_and_the_embedded_profile_reads_none(secrets_file: Path) -> None:
    env = {"PODIUM_PROFILE": "distributed", "PODIUM_STACK_SECRETS": str(secrets_file), "PODIUM_REDIS_PASSWORD": "own"}
    assert Settings.from_env(env).redis_auth == {"username": "podium", "password": "own"}
    embedded = Settings.from_env({"PODIUM_STACK_SECRETS": str(secrets_file)})
    assert (embedded.redis_auth, embedded.cassandra_auth) == ({}, None)


def test_no_secrets_file_means_no_credentials(tmp_path: Path) -> None:
    s = Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_STACK_SECRETS": str(tmp_path / "none.toml")})
    assert (s.redis_auth, s.cassandra_auth) == ({}, None)


def test_a_broken_secrets_file_is_refused_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(f'redis_password = "{REDIS_SECRET}\n')  # an unclosed string
    with pytest.raises(InvalidInput) as refused:
        Settings.from_env({"PODIUM_PROFILE": "distributed", "PODIUM_STACK_SECRETS": str(path)})
    assert REDIS_SECRET not in str(refused.value) and REDIS_SECRET not in repr(refused.value.__cause__)


def test_the_repr_masks_every_password(secrets_file: Path) -> None:
    s = Settings.from_env(
        {
            "PODIUM_PROFILE": "distributed",
            "PODIUM_STACK_SECRETS": str(secrets_file),
            "PODIUM_LIVE_REDIS_URL": "redis://ops:urlsecret@10.0.0.5:6379/0",
        }
    )
    shown = repr(s)
    for secret in (REDIS_SECRET, CASSANDRA_SECRET, "urlsecret"):
        assert secret not in shown and secret not in str(s)
    assert "redis_password='***'" in shown and "redis://ops:***@10.0.0.5:6379/0" in shown


def test_a_log_line_never_carries_a_password(secrets_file: Path) -> None:
    """Whatever a log call is handed (the settings, a driver's error repeating a URL), the
    line written has every known password blanked out."""
    s = Settings.from_env(
        {
            "PODIUM_PROFILE": "distributed",
            "PODIUM_STACK_SECRETS": str(secrets_file),
            "PODIUM_REDIS_URL": "redis://ops:urlsecret@10.0.0.5:6379/0",
        }
    )
    out = io.StringIO()
    logs.configure("info", secrets=s.secrets)
    logging.getLogger().handlers[0].setStream(out)  # type: ignore[attr-defined]
    try:
        log = logging.getLogger("podium.test")
        log.info("podium starting", extra={"settings": s})
        log.warning("redis refused", extra={"error": f"AUTH podium {REDIS_SECRET} at redis://ops:urlsecret@h"})
        try:
            raise RuntimeError(f"cassandra said {CASSANDRA_SECRET}")
        except RuntimeError:
            log.exception("driver error")
    finally:
        logs.configure("info")
    written = out.getvalue()
    assert written.count("\n") == 3 and "***" in written
    for secret in (REDIS_SECRET, CASSANDRA_SECRET, "urlsecret"):
        assert secret not in written
