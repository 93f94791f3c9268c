"""``python -m sim.cli`` runs the `gridloop` command."""

import sys

from sim.cli.commands import main

sys.exit(main())
