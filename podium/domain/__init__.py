"""The leaderboard's rules, with no I/O: boards, operators, ordering, versions."""
