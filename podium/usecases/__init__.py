"""What the API and the workers do with the pipeline and the ports, one job a module:

boards' settings (board_settings) and their time windows' stored boards (period_boards);
reading ranks under a board's tie rule (standings, over ranks); friends and users; API
keys (api_keys); the one-region-per-user refusal (user_regions); and the admin jobs —
rebuild, replay, reconcile and its daily schedule — run and recorded by jobs, started
through admin_jobs. HTTP lives in podium/api/, which calls these."""
