"""What every part of Podium uses and none owns: a SQLite connection on its own thread
(sqlite_thread, under each port's SQLite adapter), bounded and all-or-nothing concurrency
(bounded, together), a loop kept running and a step run periodically (supervisor),
structured logs (logs) and Prometheus metrics (metrics)."""
