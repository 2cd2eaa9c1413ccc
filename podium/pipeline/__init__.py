"""The pipeline's stages, in the order a score goes through them (docs/architecture.md):
ingest (api → log), db_worker (log → store), rank_worker (change feed → rank index, social
index, live hub), with what they share: the records' bytes (codec), the db-worker's copy of
its totals (known_totals) and the `wait=true` promise the rank-worker keeps (visibility)."""
