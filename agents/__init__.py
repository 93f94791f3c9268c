"""The actors of the simulated city and the life of a case among them; each runs on the
SimPy clock and asks the model's decision points (`sim.engine.decisions`) for every choice."""

from agents.caselife import CaseLife
from agents.centre import CommandCentre, SupervisionCentre
from agents.department import Department
from agents.discovery import CitizenReporting, Discovery
from agents.inspector import Beat, InspectorCorps

__all__ = ["Beat", "CaseLife", "CitizenReporting", "CommandCentre", "Department", "Discovery",
           "InspectorCorps", "SupervisionCentre"]
