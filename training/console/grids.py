"""Pictures and look-ups for the play screen: the SVG map of the unit grids, handbook search.

The map draws each unit grid as one square at its raster cell (row 0 north, col 0 west),
shaded by subdistrict, with the grid code as its id so the page's script can mark the grid a
case card points at. Handbook search matches every word of the query against a subclass's
code, names and criteria, the way a trainee looks a problem up at the desk.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sim.data.citymap import CityMap
from sim.data.taxonomy import Handbook
from sim.i18n import _, local_name
from training.wording import URGENCY, department_name, label, limit_text, subclass_name

__all__ = ["grid_svg", "search_handbook", "CELL"]

CELL = 14        # pixels a grid square
_SHADES = ("#dfe9f3", "#e7f0dc", "#f5e6d3", "#ece0f0", "#f7f1c8", "#dcefee", "#f2dede")


def grid_svg(city: CityMap) -> str:
    """An inline SVG of the district's grids (escaped; safe to place in a page as is)."""
    rows = int(city.row.max()) + 1 if city.n_grids else 1
    cols = int(city.col.max()) + 1 if city.n_grids else 1
    w, h = cols * CELL, rows * CELL
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="grid-map" data-cell="{CELL}" '
             f'viewBox="0 0 {w} {h}" width="{w * 2}" height="{h * 2}" '
             f'role="img" aria-label="{escape(_("map of the unit grids"))}">']
    for i, code in enumerate(city.codes):
        sub = int(city.subdistrict[i])
        title = f"{code} {city.subdistrict_names[sub]} / " \
                f"{city.community_names[int(city.community[i])]}"
        parts.append(
            f'<rect id="g-{escape(code)}" class="grid" x="{int(city.col[i]) * CELL}" '
            f'y="{int(city.row[i]) * CELL}" width="{CELL}" height="{CELL}" '
            f'fill="{_SHADES[sub % len(_SHADES)]}"><title>{escape(title)}</title></rect>')
    parts.append(f'<circle id="case-marker" r="{CELL / 3:.1f}" cx="-100" cy="-100"/>')
    parts.append("</svg>")
    return "".join(parts)


def search_handbook(handbook: Handbook, query: str, limit: int = 20,
                    spec: Any = None) -> list[dict[str, Any]]:
    """Subclasses whose code, names (both languages), criteria or department contain every
    word of ``query``; the words of each result in the language in force (``spec``, the
    scenario, names the departments)."""
    words = [w for w in query.lower().split() if w]
    out = []
    for sub in handbook.subclasses:
        dept = department_name(spec, sub.department)
        text = " ".join((sub.code, sub.name, sub.name_zh, sub.filing_criterion,
                         sub.closing_criterion, sub.filing_criterion_zh,
                         sub.closing_criterion_zh, sub.department, dept)).lower()
        if all(w in text for w in words):
            out.append({"code": sub.code, "name": sub.name, "name_zh": sub.name_zh,
                        "title": subclass_name(sub), "kind": sub.kind,
                        "department": sub.department, "department_label": dept,
                        "urgency": sub.urgency, "urgency_label": label(URGENCY, sub.urgency),
                        "time_limit": limit_text(sub.time_limit.value, sub.time_limit.unit),
                        "filing_criterion": local_name(sub.filing_criterion,
                                                       sub.filing_criterion_zh),
                        "closing_criterion": local_name(sub.closing_criterion,
                                                        sub.closing_criterion_zh)})
            if len(out) >= limit:
                break
    return out
