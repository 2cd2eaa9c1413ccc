"""The tools that ship with Podium but are not the service: `podium bench`, `podium simulate`
and `podium demo`'s simulated players. Only the `podium` command (podium/cli.py) imports them."""
