"""The webhook store port: webhooks and their deliveries (podium/webhooks/base.py)."""
