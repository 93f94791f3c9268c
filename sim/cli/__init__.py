"""The `gridloop` command: the interface layer over the simulated world.

`commands` holds the parser and the run, validate, schema and evaluate commands; the other
packages add theirs through ``register(subparsers)`` (see `COMMAND_MODULES`). `tables`
prints summaries and league tables with rich.
"""

from sim.cli.commands import main

__all__ = ["main"]
