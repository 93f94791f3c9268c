"""Big, small and micro loops (大循环/小循环, docs/domain.md §8), applied once the city is built.

The subdistrict loop: subclasses within a subdistrict's powers (``loops.subdistrict_handles``)
are dispatched to the subdistrict's own teams (``loops.subdistrict_unit``) instead of the
handbook's district department; everything that reads "whose duty is this" (dispatch,
returns, the quality of work out of trade) reads the same routing. The community loop: grid
staff fix more on the spot (``loops.on_spot_scale`` multiplies every subclass's share).
The district loop is what is left: the handbook's departments. Nothing here runs per case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.data.governance import loop_departments

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["apply_loops"]


def apply_loops(model: CityModel) -> None:
    """Route the subdistrict loop's subclasses and scale on-the-spot fixes."""
    spec = model.spec.loops
    if spec.subdistrict_handles:
        model.sub_dept = loop_departments(model.handbook, model.department_names,
                                          spec.subdistrict_handles, spec.subdistrict_unit)
    if spec.on_spot_scale != 1.0:
        disc = model.discovery
        disc.on_spot = [min(1.0, p * spec.on_spot_scale) for p in disc.on_spot]
