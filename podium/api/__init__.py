"""The HTTP entrypoint: the public contract of Podium."""
