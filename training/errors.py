"""Errors of the trainee sandbox, in the project's one error family (`sim.errors`).

`InvalidDecision` is what a trainee's bad input raises (unknown card, action or field value);
the session is left exactly as it was. `RecordMismatch` means a session record does not fit
the exercise it is replayed on (edited by hand, or the exercise file changed since).
"""

from __future__ import annotations

from sim.errors import GridLoopError

__all__ = ["InvalidDecision", "RecordMismatch"]


class InvalidDecision(GridLoopError):
    """A decision the session refuses; ``message`` says what was expected and what was got."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RecordMismatch(GridLoopError):
    """A session record that cannot be replayed on this exercise."""
