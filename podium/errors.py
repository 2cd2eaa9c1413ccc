"""One tree of errors. Adapters translate driver errors into these; the API maps
them to status codes in one table (`podium.api.errors`)."""

from __future__ import annotations


class PodiumError(Exception):
    """Base of every error Podium raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(PodiumError):
    """A request that can never succeed as sent; nothing was changed."""

    code = "invalid_input"


class Unprocessable(PodiumError):
    """A well-formed request that this deployment's settings refuse (a webhook URL outside
    the allow-list); nothing was changed."""

    code = "unprocessable"


class BodyTooLarge(InvalidInput):
    code = "body_too_large"


class ScoreRuleBroken(PodiumError):
    """A submission breaks one of its board's score rules; nothing of it was applied."""

    code = "score_rule"

    def __init__(self, message: str, *, rule: str, index: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.index = index  # in a batch: the first breaking item's


class SettingRefused(PodiumError):
    """A board's cohort or tier setting that cannot be (a bad value, or a change to one fixed
    at creation): 422, as issue 22 asks; the older settings keep their 400 (invalid_input)."""

    code = "invalid_setting"


class NotFound(PodiumError):
    code = "not_found"


class BoardNotFound(NotFound):
    code = "board_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class Unauthorized(PodiumError):
    """No key, or one that is unknown or revoked."""

    code = "unauthorized"


class Forbidden(PodiumError):
    """A known key whose scope does not allow the request."""

    code = "forbidden"


class Conflict(PodiumError):
    code = "conflict"


class BoardConflict(Conflict):
    code = "board_exists"


class WrongRegion(Conflict):
    """A user's event sent through another region than the one the user enters through:
    one user's events are ordered by their positions in one ingest log (docs/global.md)."""

    code = "wrong_region"

    def __init__(self, message: str, *, user_region: str) -> None:
        super().__init__(message)
        self.user_region = user_region


class NotHomeRegion(PodiumError):
    """A change of boards or of the rank index asked of an api that reads the index from its
    region's read-only replicas: only the home region's api makes them; nothing was changed."""

    code = "not_home_region"

    def __init__(self, message: str, *, home_region: str) -> None:
        super().__init__(message)
        self.home_region = home_region


class BackendUnavailable(PodiumError):
    """A backend (log, store, index) failed or timed out; retrying may succeed."""

    code = "backend_unavailable"


class InvalidRecord(PodiumError):
    """A log or change record that cannot be decoded: dead-lettered, never retried."""

    code = "invalid_record"


def public_message(exc: BaseException) -> str:
    """What an answer may say about `exc`: Podium's own words about the request, never a
    driver's (hosts, addresses, queries) nor a traceback. The log keeps those."""
    if isinstance(
        exc,
        InvalidInput
        | NotFound
        | Conflict
        | ScoreRuleBroken
        | SettingRefused
        | Unauthorized
        | Forbidden
        | NotHomeRegion,
    ):
        return exc.message
    if isinstance(exc, BackendUnavailable):
        return "a backend is unavailable; try again shortly"
    return "internal error"


def shown(value: object, limit: int = 80) -> str:
    """`value` as a message may quote it: its repr, cut short (a client's field name or
    time zone can be as long as the body)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
