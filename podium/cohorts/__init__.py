"""The cohort store port (podium/cohorts/base.py) and its adapters."""
