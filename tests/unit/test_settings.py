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
    "env", [{"PODIUM_PORT": "x"}, {"PODIUM_PORT": "70000"}, {"PODIUM_PROFILE": "cloud"}, {"PODIUM_SQLITE_SYNC": "y"}]
)
def test_bad_settings_are_refused_clearly(env: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        Settings.from_env(env)
