"""Visibility: when a submission is visible to reads (the `wait=true` promise).

A submission is visible once the rank index holds a total for its user produced by its log
record or a later one: every applied event writes a new version carrying its log position,
even when the total itself did not change. The rank-worker keeps the promise (`applied`),
the api waits on it (`wait`)."""
