"""The social index: friend lists, their reverse edges and precomputed friends boards."""
