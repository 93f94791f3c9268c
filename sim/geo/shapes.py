"""The shapes file: the real outlines of an imported city's unit grids, for figures.

It sits next to the grid table with the same stem (``cities/pilot.csv`` ->
``cities/pilot.shapes.json``) and holds, per grid code, its polygons as rings of [x, y]
metres (x east, y north; the same frame as the table's ``x_m``/``y_m``)::

    {"format": "gridloop-shapes", "version": 1, "units": "m",
     "source": "pilot.geojson", "origin_lonlat": [116.41, 39.93],
     "grids": {"110101001001001": [[[[x, y], [x, y], ...]], ...], ...}}

``grids[code]`` is a list of polygons, each a list of rings (outside first, then holes).
``origin_lonlat`` is the point the lon/lat map was projected around (null if the map was in
metres). Cities without this file (generated ones) are drawn as their raster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.geo.geometry import Shape
from sim.outputs.files import atomic_write

__all__ = ["shapes_path", "write_shapes", "read_shapes", "city_shapes", "SHAPES_FORMAT"]

SHAPES_FORMAT = "gridloop-shapes"


def shapes_path(grids_file: str | Path) -> Path:
    """Where the shapes of the grid table ``grids_file`` live (whether or not they exist)."""
    p = Path(grids_file)
    return p.with_name(p.stem + ".shapes.json")


def write_shapes(path: str | Path, codes: Sequence[str], shapes: Sequence[Shape], *,
                 source: str = "", origin_lonlat: tuple[float, float] | None = None) -> Path:
    """Write the shapes file (centimetre precision, one grid a line); returns the path."""
    lines = []
    for code, shape in zip(codes, shapes, strict=True):
        rings = [[np.round(ring, 2).tolist() for ring in polygon] for polygon in shape]
        lines.append(f"{json.dumps(code)}: {json.dumps(rings, separators=(',', ':'))}")
    head = {"format": SHAPES_FORMAT, "version": 1, "units": "m", "source": source,
            "origin_lonlat": list(origin_lonlat) if origin_lonlat else None}
    text = json.dumps(head)[:-1] + ', "grids": {\n' + ",\n".join(lines) + "\n}}\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
    return atomic_write(Path(path), write)


def read_shapes(path: str | Path, codes: Sequence[str]) -> list[Shape]:
    """The shapes of grids ``codes``, in that order.

    Raises:
        InputError: the file is not a shapes file, or lacks one of the grids.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(p), None, "", "expected a shapes file, got no such file") from None
    except (OSError, ValueError) as e:
        raise InputError(str(p), None, "", f"expected a JSON shapes file, got {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != SHAPES_FORMAT or not isinstance(
            doc.get("grids"), dict):
        raise InputError(str(p), None, "format", f"expected a {SHAPES_FORMAT!r} file with "
                         f"'grids', got {str(doc)[:60]!r}")
    grids = doc["grids"]
    out: list[Shape] = []
    for code in codes:
        if code not in grids:
            raise InputError(str(p), None, f"grids.{code}", "expected the shape of every grid "
                             "of the city's table, got none for this one")
        out.append([[np.asarray(ring, dtype=np.float64).reshape(-1, 2) for ring in polygon]
                    for polygon in grids[code]])
    return out


def city_shapes(grids_file: str | Path, codes: Sequence[str]) -> list[Shape] | None:
    """The shapes of a city's grids if its grid table has a shapes file beside it, else None
    (a generated city): what `sim.outputs.figures.overview_figure` takes as ``shapes``."""
    where = shapes_path(grids_file)
    return read_shapes(where, codes) if where.exists() else None
