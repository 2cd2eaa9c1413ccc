"""The sharded index's Lua, as `index.sharded.scripts` puts it together from `lua/*.lua`:
every file is part of some script, every helper function a script calls comes before it,
and every script compiles on a real Redis (SCRIPT LOAD), not only those the other
suites' paths happen to run."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from podium.index.sharded.scripts import PARTS, source

LUA = resources.files("podium.index.sharded").joinpath("lua")
DEFINES = re.compile(r"^local function (\w+)\(", re.MULTILINE)


def lua_files() -> set[str]:
    return {f.name.removesuffix(".lua") for f in LUA.iterdir() if f.name.endswith(".lua")}


def test_every_lua_file_is_part_of_a_script() -> None:
    used = {part for parts in PARTS.values() for part in parts}
    assert used == lua_files()


@pytest.mark.parametrize("name", sorted(PARTS))
def test_each_helper_a_script_calls_comes_before_it(name: str) -> None:
    helpers = {h for f in lua_files() for h in DEFINES.findall(LUA.joinpath(f"{f}.lua").read_text())}
    defined: set[str] = set()
    for part in PARTS[name]:
        text = LUA.joinpath(f"{part}.lua").read_text(encoding="utf-8")
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        own = set(DEFINES.findall(code))
        called = {h for h in helpers - own if re.search(rf"\b{h}\(", code)}
        assert called <= defined, f"{name}: {part}.lua calls {called - defined} before they are defined"
        defined |= own


async def test_every_script_compiles(redis_shards: list[str]) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_shards[0])
    try:
        for name in PARTS:
            await client.script_load(source(name))
    finally:
        await client.aclose()
