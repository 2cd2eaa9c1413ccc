"""The contract at one service's limits: its types, their decoders, and every type the
OpenAPI document describes."""

from __future__ import annotations

from typing import Any

import msgspec

from podium.api.contract import (
    boards,
    errors,
    friends,
    history,
    jobs,
    live,
    reads,
    scores,
    tournaments,
    upkeep,
    users,
    webhooks,
)
from podium.settings import Settings


class Contract:
    """Built once per app (api/app.py) from its settings: the limits it enforces are the
    ones its /openapi.json shows."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.submission, self.batch = scores.sized(settings)
        self.decode_submission = msgspec.json.Decoder(self.submission)
        self.decode_batch = msgspec.json.Decoder(self.batch)
        self.decode_board_settings = msgspec.json.Decoder(boards.BoardSettings)
        self.decode_board_changes = msgspec.json.Decoder(boards.BoardChanges)
        self.decode_lookup = msgspec.json.Decoder(reads.Lookup)
        self.friend_list, self.friends_board_query = friends.sized(settings)
        self.decode_friend_list = msgspec.json.Decoder(self.friend_list)
        self.decode_reconcile = msgspec.json.Decoder(upkeep.ReconcileRequest)
        self.decode_rebuild = msgspec.json.Decoder(jobs.RebuildRequest)
        self.decode_replay = msgspec.json.Decoder(jobs.ReplayRequest)
        self.events_query = live.sized(settings)
        self.decode_webhook = msgspec.json.Decoder(webhooks.WebhookSettings)

    def types(self) -> list[Any]:
        """Every declared type, for the document's components."""
        return [
            *errors.ANSWERS,
            *boards.TYPES,
            self.submission,
            self.batch,
            *scores.ANSWERS,
            *live.ANSWERS,
            *reads.TYPES,
            self.friend_list,
            *friends.ANSWERS,
            *users.ANSWERS,
            upkeep.ReconcileRequest,
            *upkeep.ANSWERS,
            *tournaments.TYPES,
            *jobs.REQUESTS,
            *jobs.ANSWERS,
            *history.TYPES,
            *webhooks.TYPES,
        ]
