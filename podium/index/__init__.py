"""The rank index port: every board's users in rank order, derived from the store."""
