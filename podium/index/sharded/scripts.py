"""The Lua scripts of the sharded rank index, one per step that must be atomic on one
shard. Each lives in `lua/<name>.lua`, which says what its KEYS and ARGV are and what it
returns; the package docstring says how they fit together.

A script is its helpers' files, then its own, as `PARTS` lists them (helpers define
local functions: `state.lua`, `count_lt.lua`, `segment_counts.lua`, `groups.lua`, `raise_changes.lua`, `place_of.lua`,
`changes.lua`, `each.lua`). The files are read when the index is built (`source`, once a
process), never at import.

The reads' scripts (`entry_home`, `shard_counts`, `place_in`, `counts_home`, `slice`) run
one a shard: the reader keeps the board's map from its last read and sends its epoch; the
home shard's script answers only if that map is still the current one (else it returns the
map, and the reader starts over with it). Its own sets are counted in the same script; the
other shards' are counted under the same map, their trim marks checked as in `counts.lua`.
"""

from __future__ import annotations

import functools
from importlib import resources

from podium.index.script_runner import sha1

# Per script: the files it is made of, helpers first (a helper that needs another lists it).
PARTS: dict[str, tuple[str, ...]] = {
    # the writers
    "begin": ("raise_changes", "each", "begin"),
    "move": ("each", "move"),
    "commit": ("state", "groups", "each", "commit"),
    "apply_single": ("count_lt", "place_of", "state", "groups", "raise_changes", "each", "apply_single"),
    "changed": ("raise_changes", "changed"),
    # the mover and the board's lock
    "counts": ("count_lt", "segment_counts", "counts"),
    "tail": ("count_lt", "tail"),
    "place": ("count_lt", "each", "place"),
    "live_leases": ("live_leases",),
    "renew": ("renew",),
    "unlock": ("unlock",),
    "set_map": ("set_map",),
    # the reconciler's repair
    "record": ("state", "groups", "record"),
    # the reads
    "counts_and_places": ("count_lt", "segment_counts", "counts_and_places"),
    "groups_before": ("count_lt", "groups_before"),
    "entry_home": ("count_lt", "place_of", "changes", "state", "entry_home"),
    "shard_counts": ("count_lt", "place_of", "shard_counts"),
    "place_in": ("count_lt", "place_of", "place_in"),
    "counts_home": ("count_lt", "changes", "counts_home"),
    "slice": ("count_lt", "slice"),
}


@functools.cache
def source(name: str) -> str:
    """A script's whole source: its parts' files, read once a process."""
    folder = resources.files("podium.index.sharded").joinpath("lua")
    return "".join(folder.joinpath(f"{part}.lua").read_text(encoding="utf-8") for part in PARTS[name])


class Script:
    """A Lua script and its SHA1, as the runners send it."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = sha1(source)


@functools.cache
def script(name: str) -> Script:
    """A script with its SHA1, made once a process."""
    return Script(source(name))
