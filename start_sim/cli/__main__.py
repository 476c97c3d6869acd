"""``python -m start_sim.cli``: the same as the ``start-sim`` command."""

from start_sim.cli import main

raise SystemExit(main())
