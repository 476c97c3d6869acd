"""The planner web app: opens on http://localhost:PORT in your browser.

Runs `streamlit run start_sim/app/main.py` on this machine only (localhost), headless (it
prints the address instead of opening a browser window). Pages: My county (inputs with
units, help and sources, checked by the scenario schema; save and download the scenario
file), How many dyads, Hiring plans, Savings and who pays. Stop it with Ctrl-C."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HELP = "the planner web app on localhost (Streamlit): county inputs, dyads needed, hiring plans, savings"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from start_sim.cli.common import whole

    p.add_argument("scenario", nargs="?", type=Path,
                   help="a scenario file to open with (default: the bundled Buncombe county)")
    p.add_argument("--port", type=whole(1, 65535), default=8501, help="port on localhost (default 8501)")


def command(args: argparse.Namespace) -> list[str]:
    """The streamlit command line this runs."""
    main_py = Path(__file__).resolve().parents[1] / "app" / "main.py"
    return [sys.executable, "-m", "streamlit", "run", str(main_py), "--server.headless=true",
            "--server.address=localhost", f"--server.port={args.port}", "--browser.gatherUsageStats=false", "--client.toolbarMode=minimal"]


def main(args: argparse.Namespace) -> int:
    from start_sim.cli.common import fail
    from start_sim.inputs.files import load_scenario

    try:
        import streamlit  # noqa: F401
    except ImportError:
        return fail("the app needs Streamlit: pip install 'streamlit>=1.40' (it is a dependency of start-sim)", 2)
    env = dict(os.environ)
    if args.scenario is not None:
        load_scenario(args.scenario)  # a bad file stops here with its message (exit 2)
        env["START_SIM_APP_SCENARIO"] = str(args.scenario.resolve())
    print(f"start-sim app: open http://localhost:{args.port} in your browser (Ctrl-C stops it)", flush=True)
    cmd = command(args)
    if os.name == "posix":  # become the server: a signal to this process (Ctrl-C, kill) reaches Streamlit itself
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)
