"""The planner web app (``start-sim app``): Streamlit pages for a county's scenario, the dyads it
needs, hiring plans compared on common random numbers, and savings by payer.

The top layer of the package: it imports everything below and nothing imports it. Pages
(:mod:`start_sim.app.views`) only lay out widgets; the scenario in session state and every
run go through :mod:`start_sim.app.session`, which calls the same ``start_sim.run``,
``compare`` and ``size_staffing`` (and so the same executor) as the command line.
"""
