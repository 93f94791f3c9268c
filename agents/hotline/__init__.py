"""The 12345 hotline (接诉即办) as an actor: `calls` (call-takers, the call log, work orders
and the survey as they happen) and `demand` (background demand, routing and the call-back
survey as pure functions). Its queue is an engine part, `sim.engine.callqueue`."""

from agents.hotline.calls import CallLog, Hotline

__all__ = ["CallLog", "Hotline"]
