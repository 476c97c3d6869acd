"""Probabilistic sensitivity analysis and benefit-cost analysis of START's savings: posterior
draws jointly with cost distributions, the value of information (EVPI, EVPPI) of expanding
START, a tornado of one-way ranges, Morris and Sobol indices (SALib), and the cost assumptions
that reproduce the claimed $2.22 per $1."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from start_sim.cli.common import (
    ProgressBar,
    console,
    fail,
    fmt,
    number,
    output_folder,
    positive_int,
    scheduler_address,
    seed,
    whole,
    workers,
)
from start_sim.cli.phases import PhaseProgress
from start_sim.core.errors import ScenarioError

HELP = "PSA and benefit-cost analysis: savings distribution, value of information, tornado, Morris and Sobol indices, $2.22 check"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky_calibrated.toml")
    p.add_argument("--draws", "-d", type=positive_int, default=200, help="PSA draws (default 200)")
    p.add_argument("--posterior", default=None,
                   help="posterior draws CSV (e.g. calibration/kentucky_posterior.csv); none = effects fixed")
    p.add_argument("--seed", type=seed, default=1, help="random seed (default 1)")
    p.add_argument("--workers", "-w", type=workers, default=1, help="Dask worker processes (1 = serial)")
    p.add_argument("--scheduler", type=scheduler_address, default=None,
                   help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--perspective", choices=("agency", "state", "federal", "state_funds", "county"), default="agency",
                   help="agency: child welfare only; state: also START's extra treatment cost; federal, state_funds, "
                        "county: one payer's share of the state perspective ([funding] table)")
    p.add_argument("--discount-rate", type=number(0, 1, "0.03"), default=None,
                   help="real discount rate per year, 0 to 1 (default: scenario)")
    p.add_argument("--horizon-years", type=number(0, 100, "10"), default=None,
                   help="years of care cost counted after each referral, 0 to 100 (default: the scenario's "
                        "runout_years)")
    p.add_argument("--runout-years", type=number(0, 100, "10"), default=None,
                   help="simulate this run-out instead of the scenario's, 0 to 100 (needed for horizons beyond it)")
    p.add_argument("--cost-sd-scale", type=number(0, 10, "1"), default=1.0,
                   help="scale of cost sds, 0 to 10 (0 = costs fixed)")
    p.add_argument("--tornado-replications", type=whole(1, 10_000), default=2, help="replications per tornado point")
    p.add_argument("--morris-trajectories", type=whole(0, 10_000), default=8, help="Morris trajectories (0 = skip)")
    p.add_argument("--sobol-samples", type=whole(0, 4096), default=8,
                   help="Sobol base samples, a power of 2 (0 = skip); simulations: samples x (2 x effects + 2)")
    p.add_argument("--out", "-o", default=None,
                   help="output folder, created or replaced once done; an existing one must be empty or hold "
                        "start-sim results (default results/uncertainty)")


def main(args: argparse.Namespace) -> int:
    """Bad input stops before the analysis; the folder is built aside and moved into place, with a manifest."""
    from start_sim.analyses.bca import Options
    from start_sim.analyses.uncertainty import uncertainty
    from start_sim.inputs.files import load_scenario
    from start_sim.inputs.posterior import load_posterior
    from start_sim.outputs.writers import write_uncertainty

    scenario = load_scenario(args.scenario)
    if args.runout_years is not None:
        scenario = scenario.with_changes({"runout_years": args.runout_years})
    posterior = None
    if args.posterior:
        try:
            posterior = load_posterior(args.posterior)
        except ScenarioError as exc:
            return fail(exc)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            return fail(f"cannot read the posterior {args.posterior}: {getattr(exc, 'strerror', None) or exc}; it "
                        f"must be a CSV of draws, one column per parameter path, as start-sim calibrate writes")
        if posterior.empty or not len(posterior.columns):
            return fail(f"the posterior {args.posterior} has no draws; give a posterior.csv written by "
                        f"start-sim calibrate, or leave --posterior out to keep the effects fixed")
        try:
            scenario.with_changes({k: float(posterior[k].iloc[0]) for k in posterior.columns})
        except ScenarioError as exc:
            return fail(f"posterior {args.posterior} does not fit the scenario: {exc}")
        except (ValueError, TypeError) as exc:
            return fail(f"the posterior {args.posterior} holds a value that is not a number ({exc}); every column "
                        f"must be numbers")
    if args.horizon_years is not None and args.horizon_years > scenario.runout_years:
        return fail(f"--horizon-years {args.horizon_years:g} exceeds the run-out ({scenario.runout_years:g} years); "
                    "add --runout-years")
    out = Path(args.out) if args.out else Path("results") / "uncertainty"
    opts = Options(args.discount_rate, args.horizon_years, args.perspective)
    with output_folder(out, "uncertainty"):
        try:
            with ProgressBar("uncertainty") as bar:  # phases: PSA, tornado, Morris (if asked)
                say = PhaseProgress(bar, "uncertainty", 2 + (args.morris_trajectories > 0) + (args.sobol_samples > 0))
                res = uncertainty(scenario, posterior, args.draws, args.seed, cost_sd_scale=args.cost_sd_scale,
                                  options=opts, tornado_replications=args.tornado_replications,
                                  morris_trajectories=args.morris_trajectories, sobol_samples=args.sobol_samples,
                                  workers=args.workers,
                                  scheduler=args.scheduler, progress=say)
                say.finish()
        except KeyboardInterrupt:
            return fail("interrupted; nothing written", 130)
        try:
            write_uncertainty(res, out)
        except OSError as exc:
            return fail(f"cannot write to {out}: {exc.strerror or exc}; nothing written", 1)
    _print(res)
    print(f"results written to {os.fspath(out)}/")
    return 0


def _print(res) -> None:
    from rich.table import Table

    from start_sim.outputs.uncertainty_report import sobol_note

    con = console()
    t = Table(title=f"Benefit-cost over {res.info['draws']} PSA draws ({res.options.perspective} perspective; USD PV)")
    for c in ("output", "point", "mean", "2.5%", "median", "97.5%"):
        t.add_column(c)
    for r in res.summary().itertuples():
        t.add_row(r.output, fmt(r.point), fmt(r.mean), fmt(r._4), fmt(r.median), fmt(r._6))
    con.print(t)
    con.print(f"P(net savings > 0) = {res.p_savings_exceed_cost:.2f}   (decide on net savings, not the ratio)")
    by = res.by_year()
    if len(by):
        yt = Table(title="Chance START has paid for itself, by year (cumulative net savings to the year's end, USD PV)")
        for c in ("year", "perspective", "net in year (mean)", "cumulative (mean)", "2.5%", "97.5%",
                  "P(paid for itself)"):
            yt.add_column(c)
        for r in by.to_dict("records"):
            yt.add_row(str(r["year"]), r["perspective"], fmt(r["net_savings_mean"]), fmt(r["cumulative_mean"]),
                       fmt(r["cumulative_p2.5"]), fmt(r["cumulative_p97.5"]), f"{r['p_paid_for_itself']:.2f}")
        con.print(yt)
    _print_voi(con, res)
    tor = Table(title="Tornado: net savings as each input moves over its range (widest first)")
    for c in ("input", "low -> net", "high -> net", "width"):
        tor.add_column(c)
    for r in res.tornado.head(12).itertuples():
        tor.add_row(r.input, f"{fmt(r.low_value)} -> {fmt(r.net_at_low)}", f"{fmt(r.high_value)} -> {fmt(r.net_at_high)}",
                    fmt(r.width))
    con.print(tor)
    if len(res.sobol):
        st = Table(title="Sobol indices of net savings (share of its variance; 95% CI half-width)")
        for c in ("input", "first-order S1", "total ST"):
            st.add_column(c)
        for r in res.sobol.head(12).itertuples():
            st.add_row(r.input, f"{r.S1:.2f} +- {r.S1_conf:.2f}", f"{r.ST:.2f} +- {r.ST_conf:.2f}")
        con.print(st)
        if note := sobol_note(res.sobol):
            con.print(note)
    rt = Table(title="In-care casework $/child-month needed for $2.22 saved per $1 (net cost; gross beside it)")
    for c in ("horizon (yr)", "program cost scale", "program $/family", "ratio (net)", "ratio (gross)",
              "casework $/month (net)", "casework $/month (gross)"):
        rt.add_column(c)
    for r in res.ratio_table.itertuples():
        rt.add_row(fmt(r.horizon_years), fmt(r.program_cost_scale), fmt(r.program_cost_per_family),
                   fmt(r.ratio_at_scenario_costs), fmt(r.ratio_gross_at_scenario_costs),
                   fmt(r.casework_per_child_month_for_target), fmt(r.casework_per_child_month_for_target_gross))
    con.print(rt)


def _print_voi(con, res) -> None:
    """EVPI and the EVPPI of each group, per family and for the scenario's cohort."""
    from rich.table import Table

    from start_sim.outputs.voi_words import voi_sentence

    v = res.voi
    if v is None:
        return
    t = Table(title="Value of information: expand START or not, on net savings (USD PV)")
    for c in ("what is learnt", "inputs", "per family", f"all {v.families:,.0f} families", "share of EVPI"):
        t.add_column(c)
    t.add_row("everything (EVPI)", "-", fmt(v.evpi_per_family), fmt(v.evpi), "1.00")
    for r in v.groups[v.groups["kind"] == "group"].itertuples():
        share = "-" if r.share_of_evpi != r.share_of_evpi else f"{r.share_of_evpi:.2f}"
        t.add_row(r.group, str(r.inputs) if r.inputs else "none drawn", fmt(r.evppi_per_family), fmt(r.evppi),
                  share + (" (above EVPI: too few draws)" if r.above_evpi else ""))
    con.print(t)
    con.print(voi_sentence(v, res.scenario.name), highlight=False)
