"""Derived outputs of a run: functions of the event log and the ground truth, never of the
live model.

`kpis` (the numbers of ``summary.json`` and the hotline's), `files` (atomic writes, the
event log as Parquet and back) and `figures` (the overview, backlog and hotline figures).
The evaluation (`sim.evaluation`, `sim.rules`) and exports (`sim.export`) are packages of
their own on the same footing.
"""
