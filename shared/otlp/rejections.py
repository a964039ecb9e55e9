"""Records a decoder rejected, counted by reason: the OTLP partial-success count and message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

# OTLP fixed64 times and counts above this do not fit PostgreSQL's bigint.
INT64_MAX = 2**63 - 1


@dataclass(slots=True)
class Rejections:
    """How many records of one request were rejected, and why; subclasses add the records."""

    # The record's name in messages: "span", "data point", "log record".
    NOUN: ClassVar[str] = "record"

    rejected: int = 0
    # Reason -> count, for partial success messages and metrics.
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        """Count one rejected record under its reason."""
        self.rejected += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def message(self) -> str:
        """A partial-success message naming every reason with its count, or ''."""
        return "; ".join(
            f"{count} {self.NOUN}(s): {reason}" for reason, count in self.reasons.items()
        )
