"""GridLoop's simulated world: scenarios, the city, the closed loop, evaluation and outputs.

The everyday entry points; everything else lives in its module (see docs/architecture.md).

    from sim import load_scenario, simulate, write_run
    result = simulate(load_scenario("dongcheng", ["inspectors.count=300"], days=30))
    write_run(result, "runs/what-if")

The names load on first use, so importing a low-level module (``sim.engine.calendar``) does not pull
in the model and the agents (which themselves import low-level ``sim`` modules).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DecisionPoints", "GridLoopError", "InputError", "RunResult", "Scenario",
           "load_scenario", "simulate", "write_run"]

_HOME = {"DecisionPoints": "sim.engine.decisions", "GridLoopError": "sim.errors",
         "InputError": "sim.errors", "RunResult": "sim.run", "Scenario": "sim.data.scenario",
         "load_scenario": "sim.data.scenario", "simulate": "sim.run", "write_run": "sim.run"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
