"""The supervision centre (监督中心) and the command centre (指挥中心): who works there.

Supervision: acceptors (受理员) register reports, send inspectors to verify public reports and
to check finished work; shift leaders (值班长) file, void or merge, and close. Command:
dispatchers (派遣员) send filed cases to departments by the handbook, and re-dispatch returns.
Each role is a `StaffPool` with its step times; what they do with a case, step by step, is
the case's life (`agents.caselife`), and every choice goes through the model's decision
points (`sim.engine.decisions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.calendar import DailyWindow
from sim.engine.pools import StaffPool

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["SupervisionCentre", "CommandCentre"]


class SupervisionCentre:
    """Acceptors and shift leaders: their pools, step times and step limit."""

    def __init__(self, model: CityModel) -> None:
        spec = model.spec.centre
        self.spec = spec
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar)
        env = model.env
        self._env = env
        self.acceptors = StaffPool(env, "acceptors", spec.acceptors, self.window)
        self.leaders = StaffPool(env, "shift_leaders", spec.shift_leaders, self.window)
        self.register_t = model.sampler("centre:register", spec.register_minutes)
        self.file_t = model.sampler("centre:file", spec.file_minutes)
        self.close_t = model.sampler("centre:close", spec.close_minutes)
        self.u = model.uniforms("checks")
        self.check_accuracy = model.spec.inspectors.check_accuracy
        self.limit = spec.step_limit_minutes
        self.always_open = self.window.always_open
        # no independent check (before 2004): the department's own feedback closes the case
        self.checks = model.inspectors.active and spec.independent_checks

    def due(self) -> float:
        """When the centre's next step is due: ``step_limit_minutes`` from its next opening."""
        now = self._env._now  # type: ignore[attr-defined]
        if self.always_open:
            return now + self.limit  # type: ignore[no-any-return]
        return self.window.next_open(now) + self.limit


class CommandCentre:
    """Dispatchers: their pool, dispatch time, mis-routing rate and draws."""

    def __init__(self, model: CityModel) -> None:
        spec = model.spec.centre
        self.window = DailyWindow.from_clock(spec.hours[0], spec.hours[1], model.calendar)
        self.dispatchers = StaffPool(model.env, "dispatchers", spec.dispatchers, self.window)
        self.dispatch_t = model.sampler("centre:dispatch", spec.dispatch_minutes)
        self.u = model.uniforms("dispatch-decisions")
        self.error = spec.dispatch_error
