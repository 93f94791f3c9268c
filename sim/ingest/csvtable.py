"""Reading the header of an imported CSV file (case logs, handbooks)."""

from __future__ import annotations

import csv
from collections.abc import Sequence

from sim.errors import InputError

__all__ = ["checked_header"]


def checked_header(reader: csv.DictReader, file: str, required: Sequence[str]) -> list[str]:
    """Strip the header's names (the reader's rows use them from then on) and check that the
    ``required`` columns are there; a missing one is an error at ``FILE:1``."""
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(file, 1, missing[0], f"expected a header with the columns "
                         f"{', '.join(required)}, got {', '.join(header) or 'none'}")
    return header
