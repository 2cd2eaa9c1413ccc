"""The live hub: the rank-worker publishes the changes it applied, api processes fan
them out to WebSocket and SSE subscribers (see docs/architecture.md#the-live-hub)."""
