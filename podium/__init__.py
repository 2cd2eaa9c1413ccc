"""Podium: a real-time leaderboard service for games."""

__version__ = "0.1.0"
