"""Score submissions and their answers (api/scores.py): one, or a batch."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from msgspec import UNSET, Meta, Struct, UnsetType, defstruct

from podium.api.contract.fields import Id, Score
from podium.domain.boards import Operator
from podium.settings import Settings


# gc=False: a batch decodes a thousand of these, and the garbage collector need not track them
# (they hold only JSON values, which cannot refer back to them: no cycle).
class Submission(Struct, forbid_unknown_fields=True, gc=False):
    """A score for a user. Every field but user_id and score is optional (null: absent)."""

    user_id: Id
    score: Score
    key: Annotated[Id, Meta(description="Idempotency key: applied once per board within 24 h.")] | None = None
    operator: (
        Annotated[Operator, Meta(description="This submission's operator, on a board that allows an override")] | None
    ) = None
    subscore: Annotated[Score, Meta(description="On a board with a subscore_order")] | None = None
    # Sized by the settings (`sized`): the metadata's bytes, the display name's characters.
    metadata: dict[str, Any] | None = None
    display_name: str | None = None

    def is_plain(self) -> bool:
        """Only a user and a score: most submissions, which need no check but the type's."""
        return (
            self.key is None
            and self.operator is None
            and self.subscore is None
            and self.metadata is None
            and self.display_name is None
        )


class WaitQuery(Struct):
    # As a query sends it: true or false, and also 1, yes, 0, no (any case; api/requests.bool_param);
    # empty is false.
    wait: Annotated[
        bool | Literal["", "1", "yes", "0", "no"], Meta(description="Answer once the change is visible to reads.")
    ] = False


class SubmissionBatch(Struct, forbid_unknown_fields=True, gc=False):
    scores: list[Submission]  # from 1 to PODIUM_MAX_BATCH (`sized`)


def sized(settings: Settings) -> tuple[type[Submission], type[SubmissionBatch]]:
    """The submission and batch types with the service's limits."""
    submission = defstruct(
        "Submission",
        [
            (
                "metadata",
                Annotated[
                    dict[str, Any],
                    Meta(
                        description=f"Small JSON object (at most {settings.max_metadata_bytes} bytes compact, "
                        f"{settings.max_json_depth} levels deep); replaces the entry's"
                    ),
                ]
                | None,
                None,
            ),
            ("display_name", Annotated[str, Meta(min_length=1, max_length=settings.max_display_name)] | None, None),
        ],
        bases=(Submission,),
        forbid_unknown_fields=True,
        gc=False,
    )
    scores = Annotated[list[submission], Meta(min_length=1, max_length=settings.max_batch)]  # type: ignore[valid-type]
    batch = defstruct(
        "SubmissionBatch", [("scores", scores)], bases=(SubmissionBatch,), forbid_unknown_fields=True, gc=False
    )
    return cast(type[Submission], submission), cast(type[SubmissionBatch], batch)


class Accepted(Struct):
    """Accepted and durable."""

    accepted: bool
    count: int | UnsetType = UNSET
    visible: Annotated[bool, Meta(description="false: waited, not yet visible")] | UnsetType = UNSET


class Previous(Struct):
    rank: int | None = None
    score: int | None = None


class Result(Struct):
    """The user's entry once the submission is visible (null rank: the user was removed), the
    rank and score before it, whether it is a new personal best, and the same per window (with
    the period) on a board with windows."""

    rank: int | None
    user_id: Id
    score: int | None
    previous: Previous | UnsetType = UNSET
    personal_best: bool | UnsetType = UNSET
    windows: dict[str, dict[str, Any]] | UnsetType = UNSET


class Results(Struct):
    results: list[Result]


ANSWERS = (Accepted, Result, Results)
