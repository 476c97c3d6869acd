"""Uncertainty and sensitivity of START's savings, for decisions.

* **PSA** (probabilistic sensitivity analysis): each draw takes one joint row of the
  calibrated posterior (effects move together, as fitted) and one set of unit costs from
  independent distributions (gamma for money, beta for shares, from a mean and sd), simulates
  one replication (replication i for draw i: stochastic variation of a real programme is
  part of the uncertainty) and prices it with :mod:`start_sim.analyses.bca`. Reported: distribution of
  net savings, savings per $1, placement days avoided, and P(net savings > 0).
* **Tornado**: one-way sensitivity of mean net savings to each cost input (its 2.5-97.5%
  range) and each effect parameter (its posterior 2.5-97.5% range), others at the point
  values; cost inputs re-price the same simulated ledgers, effect parameters re-simulate with
  the same seeds (common random numbers).
* **Global indices**: Morris elementary effects (SALib) of net savings over the independent
  inputs (costs, and effect parameters over their marginal posterior ranges: their posterior
  correlation is ignored here, so read them as screening, not as a decomposition of the PSA).

Simulations go through a Dask cluster when ``workers > 1`` or a ``scheduler`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from start_sim.analyses.bca import DEFAULT, Ledger, Options, bca, ledger, mean_bca
from start_sim.analyses.calibration import _Mapper
from start_sim.inputs.schema import Costs, Scenario


@dataclass(frozen=True)
class CostInput:
    """An uncertain unit cost: dotted path under ``costs``, distribution family and relative sd."""

    path: str
    family: str  # gamma | beta
    rel_sd: float
    note: str = ""


COST_INPUTS: tuple[CostInput, ...] = (
    CostInput("placement_per_child_day.foster", "gamma", 0.15, "KY per diem; rates vary by age and level"),
    CostInput("placement_per_child_day.relative", "gamma", 0.30, "kinship payment, not always paid"),
    CostInput("placement_per_child_day.residential", "gamma", 0.20, "KY Level IV-V"),
    CostInput("casework_per_child_month_in_care", "gamma", 0.40, "gap 12: no source"),
    CostInput("caseworker_per_fte_year", "gamma", 0.15, "salary + fringe"),
    CostInput("mentor_per_fte_year", "gamma", 0.15, "salary + fringe"),
    CostInput("supervision_share", "gamma", 0.30, "assumption"),
    CostInput("overhead_share", "gamma", 0.30, "assumption"),
    CostInput("treatment_per_episode.outpatient", "gamma", 0.30, "state perspective only"),
    CostInput("treatment_per_episode.residential", "gamma", 0.30, "state perspective only"),
    CostInput("treatment_per_episode.moud", "gamma", 0.30, "state perspective only"),
)


def distribution(family: str, mean: float, sd: float):
    """A frozen scipy distribution with this mean and sd (gamma or beta); None if sd is 0."""
    if sd <= 0 or mean <= 0:
        return None
    if family == "gamma":
        return stats.gamma(a=(mean / sd) ** 2, scale=sd**2 / mean)
    if family == "beta":
        k = mean * (1 - mean) / sd**2 - 1
        if k <= 0:
            raise ValueError(f"beta with mean {mean} and sd {sd} is impossible")
        return stats.beta(mean * k, (1 - mean) * k)
    raise ValueError(f"unknown distribution family {family!r}")


def _get(c: Costs, path: str) -> float:
    v: Any = c
    for part in path.split("."):
        v = getattr(v, part)
    return float(v)


def with_costs(c: Costs, values: dict[str, float]) -> Costs:
    """A copy of ``c`` with dotted cost paths replaced."""
    data = c.model_dump()
    for path, v in values.items():
        d = data
        parts = path.split(".")
        for part in parts[:-1]:
            d = d[part]
        d[parts[-1]] = float(v)
    return Costs.model_validate(data)


def cost_distributions(c: Costs, sd_scale: float = 1.0, inputs=COST_INPUTS, perspective: str = "state") -> dict[str, Any]:
    """scipy distributions of the uncertain unit costs (treatment prices only for the state perspective)."""
    return {i.path: distribution(i.family, _get(c, i.path), i.rel_sd * sd_scale * _get(c, i.path)) for i in inputs
            if perspective == "state" or not i.path.startswith("treatment")}


def _ledger_task(_: Any, args: tuple) -> Ledger:
    scenario, seed, rep = args
    return ledger(scenario, seed, rep)


def effect_scenario(scenario: Scenario, theta: dict[str, float]) -> Scenario:
    return scenario.with_changes({k: float(v) for k, v in theta.items()}) if theta else scenario


@dataclass
class UncertaintyResult:
    scenario: Scenario
    options: Options
    draws: pd.DataFrame  # one row per PSA draw: inputs and BCA outputs
    point: dict[str, float]  # BCA at point values (mean over the point ledgers)
    tornado: pd.DataFrame
    morris: pd.DataFrame
    ratio_table: pd.DataFrame
    info: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        keys = ["net_savings", "savings_per_dollar", "pv_placement_cost_avoided", "pv_cost",
                "placement_days_avoided", "break_even_reduction_pp"]
        rows = []
        for k in keys:
            v = self.draws[k].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            rows.append({"output": k, "point": self.point[k], "mean": v.mean(), "p2.5": np.percentile(v, 2.5),
                         "median": np.median(v), "p97.5": np.percentile(v, 97.5)})
        df = pd.DataFrame(rows)
        return df

    @property
    def p_savings_exceed_cost(self) -> float:
        return float((self.draws["net_savings"] > 0).mean())


def psa(scenario: Scenario, posterior: pd.DataFrame | None, draws: int, seed: int = 1, *,
        cost_sd_scale: float = 1.0, options: Options = DEFAULT, mapper: _Mapper | None = None) -> pd.DataFrame:
    """One row per draw: the effect values, the unit costs and the BCA outputs."""
    rng = np.random.default_rng(seed)
    params = [c for c in (posterior.columns if posterior is not None else []) if c not in ("draw", "particle")]
    rows = rng.integers(0, len(posterior), draws) if posterior is not None and len(posterior) else [None] * draws
    thetas = [{p: float(posterior.iloc[r][p]) for p in params} if r is not None else {} for r in rows]
    own = mapper is None
    mapper = mapper or _Mapper()
    try:
        leds = mapper.map(_ledger_task, None, [(effect_scenario(scenario, th), seed, i) for i, th in enumerate(thetas)])
    finally:
        if own:
            mapper.close()
    dists = cost_distributions(scenario.costs, cost_sd_scale)
    out = []
    for i, (th, led) in enumerate(zip(thetas, leds, strict=True)):
        values = {p: (d.rvs(random_state=rng) if d is not None else _get(scenario.costs, p)) for p, d in dists.items()}
        res = bca(led, with_costs(led.scenario.costs, values), options)
        out.append({"draw": i, **th, **{f"cost:{k}": v for k, v in values.items()}, **res})
    return pd.DataFrame(out)


def tornado(scenario: Scenario, posterior: pd.DataFrame | None, seed: int = 1, replications: int = 2, *,
            options: Options = DEFAULT, mapper: _Mapper | None = None,
            base_ledgers: list[Ledger] | None = None) -> tuple[pd.DataFrame, dict[str, float], list[Ledger]]:
    """One-way ranges of mean net savings; rows sorted widest first."""
    own = mapper is None
    mapper = mapper or _Mapper()
    params = [c for c in (posterior.columns if posterior is not None else []) if c not in ("draw", "particle")]
    base_theta = {p: float(posterior[p].median()) for p in params}
    base_sc = effect_scenario(scenario, base_theta)
    jobs = [] if base_ledgers is not None else [(base_sc, seed, r) for r in range(replications)]
    ranges = {p: (float(posterior[p].quantile(0.025)), float(posterior[p].quantile(0.975))) for p in params}
    for p in params:
        for v in ranges[p]:
            jobs += [(effect_scenario(scenario, {**base_theta, p: v}), seed, r) for r in range(replications)]
    try:
        leds = mapper.map(_ledger_task, None, jobs)
    finally:
        if own:
            mapper.close()
    if base_ledgers is None:
        base_ledgers, leds = leds[:replications], leds[replications:]
    c0 = base_sc.costs
    point = mean_bca(base_ledgers, c0, options)
    rows = []
    for k, p in enumerate(params):
        lo = mean_bca(leds[2 * k * replications:(2 * k + 1) * replications], c0, options)["net_savings"]
        hi = mean_bca(leds[(2 * k + 1) * replications:(2 * k + 2) * replications], c0, options)["net_savings"]
        rows.append({"input": p, "kind": "effect", "low_value": ranges[p][0], "high_value": ranges[p][1],
                     "net_at_low": lo, "net_at_high": hi})
    for path, d in cost_distributions(c0, perspective=options.perspective).items():
        if d is None:
            continue
        lv, hv = float(d.ppf(0.025)), float(d.ppf(0.975))
        lo = mean_bca(base_ledgers, with_costs(c0, {path: lv}), options)["net_savings"]
        hi = mean_bca(base_ledgers, with_costs(c0, {path: hv}), options)["net_savings"]
        rows.append({"input": f"costs.{path}", "kind": "cost", "low_value": lv, "high_value": hv,
                     "net_at_low": lo, "net_at_high": hi})
    lo = mean_bca(base_ledgers, c0, Options(0.0, options.horizon_years, options.perspective))["net_savings"]
    hi = mean_bca(base_ledgers, c0, Options(0.07, options.horizon_years, options.perspective))["net_savings"]
    rows.append({"input": "discount rate", "kind": "option", "low_value": 0.0, "high_value": 0.07,
                 "net_at_low": lo, "net_at_high": hi})
    df = pd.DataFrame(rows)
    df["width"] = (df["net_at_high"] - df["net_at_low"]).abs()
    return df.sort_values("width", ascending=False).reset_index(drop=True), point, base_ledgers


def morris(scenario: Scenario, posterior: pd.DataFrame | None, seed: int = 1, trajectories: int = 8, *,
           options: Options = DEFAULT, mapper: _Mapper | None = None) -> pd.DataFrame:
    """Morris mu* and sigma of net savings (SALib), effect and cost inputs over their ranges."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    params = [c for c in (posterior.columns if posterior is not None else []) if c not in ("draw", "particle")]
    c0 = scenario.costs
    dists = {p: d for p, d in cost_distributions(c0, perspective=options.perspective).items() if d is not None}
    names = params + [f"costs.{p}" for p in dists]
    bounds = [[float(posterior[p].quantile(0.025)), float(posterior[p].quantile(0.975))] for p in params]
    bounds += [[float(d.ppf(0.025)), float(d.ppf(0.975))] for d in dists.values()]
    bounds = [[lo, hi if hi > lo else lo + 1e-9] for lo, hi in bounds]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    x = morris_sample.sample(problem, trajectories, num_levels=4, seed=seed)
    keys = [tuple(row[: len(params)]) for row in x]
    unique = list(dict.fromkeys(keys))
    own = mapper is None
    mapper = mapper or _Mapper()
    try:
        leds = mapper.map(_ledger_task, None, [
            (effect_scenario(scenario, dict(zip(params, k, strict=True))), seed, 0) for k in unique])
    finally:
        if own:
            mapper.close()
    by_key = dict(zip(unique, leds, strict=True))
    y = np.array([
        bca(by_key[k], with_costs(c0, dict(zip(dists, row[len(params):], strict=True))), options)["net_savings"]
        for k, row in zip(keys, x, strict=True)])
    si = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
    df = pd.DataFrame({"input": names, "mu_star": si["mu_star"], "sigma": si["sigma"],
                       "mu_star_conf": si["mu_star_conf"]})
    return df.sort_values("mu_star", ascending=False).reset_index(drop=True)


def uncertainty(scenario: Scenario, posterior: pd.DataFrame | None, draws: int = 200, seed: int = 1, *,
                cost_sd_scale: float = 1.0, options: Options = DEFAULT, tornado_replications: int = 2,
                morris_trajectories: int = 8, workers: int = 1, scheduler: str | None = None,
                progress=None) -> UncertaintyResult:
    """PSA, tornado, Morris indices and the $2.22 table; see the module docstring."""
    from start_sim.analyses.bca import reproduce_ratio

    say = progress or (lambda msg: None)
    mapper = _Mapper(workers, scheduler)
    try:
        say(f"PSA: {draws} draws")
        d = psa(scenario, posterior, draws, seed, cost_sd_scale=cost_sd_scale, options=options, mapper=mapper)
        say("tornado")
        tor, point, base = tornado(scenario, posterior, seed, tornado_replications, options=options, mapper=mapper)
        mor = pd.DataFrame()
        if morris_trajectories > 0:
            say(f"Morris: {morris_trajectories} trajectories")
            mor = morris(scenario, posterior, seed, morris_trajectories, options=options, mapper=mapper)
    finally:
        mapper.close()
    horizons = tuple(h for h in (1, 2, 3, 5, 8) if h <= scenario.runout_years + 1e-9)
    ratio = reproduce_ratio(base, horizons=horizons, discount_rate=options.discount_rate)
    return UncertaintyResult(scenario, options, d, point, tor, mor, ratio,
                             {"draws": draws, "seed": seed, "cost_sd_scale": cost_sd_scale})


# ------------------------------------------------------------------ figures and report


def tornado_figure(tor: pd.DataFrame, point: float, path=None) -> str:
    """Horizontal bars, widest on top, input limits printed beside the bars; returns a data URI."""
    from start_sim.outputs.calibration_report import _mpl, png

    plt = _mpl()
    tor = tor.head(14)
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(tor) + 1.3))
    ys = np.arange(len(tor))[::-1]
    span = float(np.nanmax(np.abs(tor[["net_at_low", "net_at_high"]].to_numpy() - point))) or 1.0
    for y, (_, r) in zip(ys, tor.iterrows(), strict=True):
        lo, hi = r["net_at_low"], r["net_at_high"]
        ax.barh(y, lo - point, left=point, color="tab:blue", alpha=0.8)
        ax.barh(y, hi - point, left=point, color="tab:orange", alpha=0.8)
        for val, x in ((r["low_value"], lo), (r["high_value"], hi)):
            ha = "left" if x >= point else "right"
            ax.text(x + (0.02 if x >= point else -0.02) * span, y, _short(val), va="center", ha=ha, fontsize=7)
    ax.axvline(point, color="black", lw=1)
    ax.set_yticks(ys, tor["input"], fontsize=8)
    ax.set_xlim(point - 1.35 * span, point + 1.35 * span)
    ax.set_xlabel("net savings, USD (PV)")
    ax.set_title("One-way sensitivity of net savings (blue: input at its low value, orange: high;\n"
                 "numbers beside the bars are the input values)", fontsize=9)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1e6:.0f}M")
    uri = png(fig)
    if path is not None:
        import base64
        from pathlib import Path
        Path(path).write_bytes(base64.b64decode(uri.split(",", 1)[1]))
    return uri


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def psa_figure(d: pd.DataFrame) -> str:
    from start_sim.outputs.calibration_report import _mpl, png

    plt = _mpl()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    for ax, key, lab in zip(axes, ("net_savings", "savings_per_dollar", "placement_days_avoided"),
                            ("net savings, USD M (PV)", "savings per $1", "child-days in care avoided"), strict=True):
        v = d[key].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if key == "net_savings":
            v = v / 1e6
            ax.axvline(0, color="red", lw=1)
        if key == "savings_per_dollar":
            ax.axvline(1, color="red", lw=1)
        ax.hist(v, bins=30, color="tab:blue", alpha=0.8)
        ax.set_xlabel(lab, fontsize=8)
    fig.tight_layout()
    return png(fig)


def render_html(res: UncertaintyResult) -> str:
    import html

    from start_sim.outputs.calibration_report import _table

    s = res.summary()
    o = res.options
    r = res.ratio_table
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>start-sim uncertainty</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}th{{background:#eee}}</style></head><body>
<h1>Uncertainty and benefit-cost: {html.escape(res.scenario.name)}</h1>
<p>{res.info['draws']} PSA draws (posterior rows jointly, unit costs from gamma distributions, sd scale
{res.info['cost_sd_scale']:g}); perspective <b>{o.perspective}</b>; discount rate
{o.discount_rate if o.discount_rate is not None else res.scenario.costs.discount_rate_per_year:g}/yr;
horizon {o.horizon_years if o.horizon_years is not None else res.scenario.runout_years:g} years of care after referral.
<b>P(net savings &gt; 0) = {res.p_savings_exceed_cost:.2f}</b>. Decide on net savings, not on the ratio.</p>
{_table(s, list(s.columns))}
<img src="{psa_figure(res.draws)}">
<h2>Tornado: one-way sensitivity of net savings</h2>
<img src="{tornado_figure(res.tornado, res.point['net_savings'])}">
{_table(res.tornado, ['input', 'kind', 'low_value', 'high_value', 'net_at_low', 'net_at_high', 'width'])}
<h2>Morris elementary effects (SALib), net savings</h2>
{_table(res.morris, list(res.morris.columns)) if len(res.morris) else '<p>not run</p>'}
<h2>Which assumptions reproduce $2.22 per $1?</h2>
<p>Casework and administration cost per child-month in care (on top of maintenance per diems) at which PV placement
cost avoided / PV program cost = 2.22, by horizon of care cost counted and by program cost per family.</p>
{_table(r, list(r.columns))}
</body></html>"""
