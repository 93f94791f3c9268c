"""The actors of the simulated city; each behaviour runs on the SimPy clock and asks
`sim.engine.decisions.DecisionPoints` for every choice."""

from agents.centre import CommandCentre, SupervisionCentre
from agents.department import Department
from agents.discovery import CitizenReporting, Discovery
from agents.inspector import Beat, Inspector, InspectorCorps

__all__ = ["Beat", "CitizenReporting", "CommandCentre", "Department", "Discovery", "Inspector",
           "InspectorCorps", "SupervisionCentre"]
