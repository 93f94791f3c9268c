"""The engine: the machinery every simulated city runs on.

`clock` (the one SimPy clock) and `calendar` (working time, duty windows); `randomness`
(named streams); `eventlog` (the record schema and the case state machine); `casebook` (cases
and the only writer of their rows); `pools` (staff pools: servers and a queue) and
`callqueue` (the hotline's queue with patience); `problems` (ground truth); `decisions` (the
decision points); `behaviour` (how units react to an evaluation rule set). Nothing here
imports the actors (`agents`), the assembly (`sim.model`) or any interface.
"""
