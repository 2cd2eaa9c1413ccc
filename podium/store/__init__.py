"""The store port: boards and totals, the source of truth."""
