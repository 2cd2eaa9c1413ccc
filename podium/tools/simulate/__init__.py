"""Simulations of Podium deployments, built from its real embedded parts.

- `link.py`: the network between two regions: a one-way delay and a partition switch.
- `mirror.py`: a region's ingest log copied home across a link, exactly once.
- `region.py`: one region's parts (its ingest log; at home the db-worker, store and rank
  index; elsewhere a read replica of the rank index fed across the link).
- `global_run.py`: `podium simulate global`: players in every region, a partition, staleness.
- `report.py`: the table, the JSON file, and the figures in docs/global.md.
"""
