"""The change feed port: every change to a total, in order, from the store."""
