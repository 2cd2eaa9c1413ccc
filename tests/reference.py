"""The plain reference model: a sorted list of every user's expected total."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReferenceBoard:
    order: str = "desc"
    operator: str = "incr"
    tie: str = "unique"
    totals: dict[str, int] = field(default_factory=dict)
    reached: dict[str, int] = field(default_factory=dict)  # when the current total was reached
    clock: int = 0

    def submit(self, user_id: str, score: int) -> None:
        self.clock += 1
        current = self.totals.get(user_id)
        if current is None:
            new = max(-(2**53 - 1), -score) if self.operator == "decr" else score
        elif self.operator == "incr":
            new = max(-(2**53 - 1), min(2**53 - 1, current + score))
        elif self.operator == "decr":
            new = max(-(2**53 - 1), min(2**53 - 1, current - score))
        elif self.operator == "set":
            new = score
        else:
            new = max(current, score) if self.order == "desc" else min(current, score)
        if current is None or new != current:
            self.reached[user_id] = self.clock
        self.totals[user_id] = new

    def remove(self, user_id: str) -> None:
        self.clock += 1
        self.totals.pop(user_id, None)
        self.reached.pop(user_id, None)

    def ranking(self) -> list[dict[str, int | str]]:
        sign = -1 if self.order == "desc" else 1
        users = sorted(self.totals, key=lambda u: (sign * self.totals[u], self.reached[u], u))
        ranked: list[dict[str, int | str]] = []
        for i, u in enumerate(users):
            rank = i + 1
            if ranked and self.tie != "unique" and self.totals[u] == ranked[-1]["score"]:
                rank = int(ranked[-1]["rank"])  # equals share a rank
            elif ranked and self.tie == "dense":
                rank = int(ranked[-1]["rank"]) + 1  # the next does not skip
            ranked.append({"rank": rank, "user_id": u, "score": self.totals[u]})
        return ranked
