"""The OpenAPI paths of tournaments (podium/api/tournaments.py); their schemas are generated
from the declared types (api/contract/tournaments.py)."""

from __future__ import annotations

from typing import Any

from podium.api.contract.operations import BOARD, ERRORS, USER, answer
from podium.api.contract.schema import query_parameters
from podium.api.contract.tournaments import TournamentsQuery

REFUSED = answer("closed: no period of the tournament is active now; full: max_players joined this period", "Error")

PATHS: dict[str, Any] = {
    "/v1/boards/{board}/players/{user_id}": {
        "parameters": [BOARD, USER],
        "post": {
            "summary": "Join the tournament's active period (first come, first served up to max_players)",
            "operationId": "joinTournament",
            "responses": {
                "201": answer("Joined", "Player"),
                "200": answer("Had joined already", "Player"),
                "409": REFUSED,
                **ERRORS,
            },
        },
        "delete": {
            "summary": "Leave the tournament's active period, giving the place up",
            "operationId": "leaveTournament",
            "responses": {"204": answer("Left (or had not joined)"), "409": REFUSED, **ERRORS},
        },
    },
    "/v1/tournaments": {
        "get": {
            "summary": "Every tournament's board and its state now (without a key: the public boards')",
            "operationId": "listTournaments",
            "parameters": query_parameters(TournamentsQuery),
            "responses": {"200": answer("The tournaments, by board name", "TournamentList"), **ERRORS},
        },
    },
}
