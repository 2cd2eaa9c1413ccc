"""A `podium` command run for a bench stage, under the stage's own Kafka names:
`python -m podium.tools.bench.proc --ingest-topic T --db-group G --rank-group R -- api --port 8123`.
(See podium/tools/bench/isolation.py for why.)"""

from __future__ import annotations

import argparse
import sys

from podium.tools.bench.isolation import BenchNames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podium.tools.bench.proc")
    parser.add_argument("--ingest-topic", required=True)
    parser.add_argument("--db-group", required=True)
    parser.add_argument("--rank-group", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the podium command and its flags, after --")
    args = parser.parse_args(argv)
    BenchNames(args.ingest_topic, args.db_group, args.rank_group).use()
    from podium.cli import main as podium

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return podium(command)


if __name__ == "__main__":
    sys.exit(main())
