"""One module per ``start-sim`` subcommand.

Each module has ``HELP`` (one line for ``start-sim --help``), ``add_arguments(parser)``
and ``main(args) -> int`` (the exit status). Heavy imports stay inside ``main`` so that
the command line starts fast. ``start_sim.cli.COMMANDS`` lists the modules in order.
"""
