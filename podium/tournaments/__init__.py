"""The tournament store port: who joined each tournament period, first come first served up
to its size, and the attempts each player made in it, each counted once."""
