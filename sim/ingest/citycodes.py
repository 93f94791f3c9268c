"""A stand-in city map built from the unit-grid codes a case log names (docs/domain.md §2).

When no map comes with the log, the 15-digit codes still say which grids exist and how they
nest: 6 district + 3 subdistrict + 3 community + 3 sequence digits. Grids are laid out so the
code's own order holds (sequence west to east, then north to south inside a community):
each community is a near-square block, a subdistrict's communities sit side by side, and
subdistricts are stacked north to south. The layout is schematic, so travel times on it are
only indicative; a real map (`gridloop calibrate --map`, or ``--grids``) replaces it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

from sim.data.citymap import CSV_COLUMNS
from sim.outputs.csvcells import safe_row
from sim.outputs.files import atomic_write

__all__ = ["write_grids_from_codes"]


def write_grids_from_codes(codes: Iterable[str], path: str | Path, *,
                           residents: float = 1000.0) -> Path:
    """Write a grid table (sim/data/citymap.py format) holding exactly ``codes``.

    Subdistricts are named ``Subdistrict 001``, communities ``Community 001-002`` after
    their code digits; every grid gets ``residents`` (uniform) and no hotspots.
    """
    by_comm: dict[str, list[str]] = {}
    for code in sorted(set(codes)):
        by_comm.setdefault(code[6:12], []).append(code)
    rows: list[tuple] = []
    top = 0
    for sub in sorted({c[:3] for c in by_comm}):
        left, height = 0, 0
        for comm in sorted(c for c in by_comm if c[:3] == sub):
            grids = by_comm[comm]
            width = math.ceil(math.sqrt(len(grids)))
            for i, code in enumerate(grids):
                rows.append((code, f"Subdistrict {sub}", f"Community {sub}-{comm[3:]}",
                             top + i // width, left + i % width, f"{residents:g}", ""))
            left += width
            height = max(height, math.ceil(len(grids) / width))
        top += height

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(CSV_COLUMNS)
            w.writerows(safe_row(r) for r in rows)
    return atomic_write(Path(path), write)
