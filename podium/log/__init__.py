"""The ingest log port ("scores.ingest"): api appends, the db-worker consumes."""
