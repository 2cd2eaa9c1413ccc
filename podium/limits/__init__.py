"""Limits shared by every api process: request rates, and submissions per user a minute."""
