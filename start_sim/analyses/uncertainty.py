"""Uncertainty and sensitivity of START's savings, for decisions.

* **PSA** (probabilistic sensitivity analysis): each draw takes one joint row of the
  calibrated posterior (effects move together, as fitted) and one set of unit costs from
  independent distributions (gamma for money, beta for shares, from a mean and sd), simulates
  one replication (replication i for draw i: stochastic variation of a real programme is
  part of the uncertainty) and prices it with :mod:`start_sim.analyses.bca`. Reported: distribution of
  net savings (on the net cost: START minus the usual casework it replaces), savings per $1
  on the net and the gross cost, the casework credit, placement days avoided, and
  P(net savings > 0). Cost distributions are centred on the sourced defaults (``COST_INPUTS``); for
  the payer perspectives the uncertain funding shares are drawn too (``FUNDING_INPUTS``).
  By programme year (:mod:`start_sim.analyses.by_year`): each draw's cumulative present-value
  net savings to the end of each year, priced from the same ledger and costs, for the agency,
  state and chosen perspectives, and the share of draws in which START has paid for itself.
* **Tornado**: one-way sensitivity of mean net savings to each cost input (its 2.5-97.5%
  range) and each effect parameter (its posterior 2.5-97.5% range), others at the point
  values; cost inputs re-price the same simulated ledgers, effect parameters re-simulate with
  the same seeds (common random numbers).
* **Global indices**: Morris elementary effects (SALib) of net savings over the independent
  inputs (costs, and effect parameters over their marginal posterior ranges: their posterior
  correlation is ignored here, so read them as screening, not as a decomposition of the PSA),
  and Sobol first-order and total indices over the same inputs (:mod:`start_sim.analyses.sobol`).
* **Value of information** (:mod:`start_sim.analyses.voi`): EVPI of "expand START or not" on
  the PSA's net savings, and EVPPI of the effect parameters, the unit costs and the funding
  shares (those the PSA draws) by the regression method of Strong, Oakley and Brennan (2014).

Simulations are tasks of one :class:`~start_sim.experiments.executor.Executor` (Dask when
``workers > 1`` or a ``scheduler`` is given). The PSA's random draws come from named streams of
its seed (posterior rows, and one stream per cost input), so adding an input moves no other draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from start_sim.analyses import by_year as by_year_mod
from start_sim.analyses import payers
from start_sim.analyses.bca import DEFAULT, Ledger, Options, bca, ledger, mean_bca, reproduce_ratio
from start_sim.analyses.parallel import named_rng, ordered_map
from start_sim.analyses.sobol import indices as sobol_indices
from start_sim.analyses.voi import VOI, groups_of, value_of_information
from start_sim.experiments.executor import Executor
from start_sim.inputs.schema import Costs, Scenario


@dataclass(frozen=True)
class CostInput:
    """An uncertain unit cost: dotted path under ``costs``, distribution family and relative sd."""

    path: str
    family: str  # gamma | beta
    rel_sd: float
    note: str = ""
    treatment: bool = False  # a treatment price: paid by Medicaid/the state, so only the state perspective sees it


COST_INPUTS: tuple[CostInput, ...] = (
    CostInput("placement_per_child_day.foster", "gamma", 0.15, "KY basic rate; rates vary by age and level [KY-SOP-4.5.5]"),
    CostInput("placement_per_child_day.relative", "gamma", 0.15, "kin at the foster rate since 2024 [KY-SOP-12.24]"),
    CostInput("placement_per_child_day.residential", "gamma", 0.15, "Level IV $183 to Level V $236.60 [KY-per-diem]"),
    CostInput("casework_per_child_month_in_care", "gamma", 0.50,
              "ASPE FY2023 national mean $2,576, states $263-$10,041 [ASPE-IVE-admin-2023]"),
    CostInput("in_care_casework_share_while_case_open", "beta", 0.57,
              "how much of in-placement administration the family's own worker does: assumption, near-uniform on 0-1"),
    CostInput("usual_ongoing_caseload", "gamma", 0.15, "CWLA standard 17 families; 12-15 also cited [CWLA-caseload]"),
    CostInput("usual_caseworker_per_fte_year", "gamma", 0.15, "salary + fringe, as START caseworkers [assumption]"),
    CostInput("adoption_subsidy_per_child_day", "gamma", 0.30, "at most the foster per diem [KY-SOP-13.40]"),
    CostInput("guardianship_subsidy_per_child_day", "gamma", 0.30, "subsidised permanent custody [KY-922-KAR-1:145]"),
    CostInput("caseworker_per_fte_year", "gamma", 0.15, "salary + fringe; sd 15% [assumption]"),
    CostInput("mentor_per_fte_year", "gamma", 0.15, "salary + fringe; sd 15% [assumption]"),
    CostInput("supervision_share", "gamma", 0.30, "assumption"),
    CostInput("overhead_share", "gamma", 0.30, "assumption"),
    CostInput("treatment_per_episode.outpatient", "gamma", 0.30, "state perspective only; sd 30% [assumption]", True),
    CostInput("treatment_per_episode.residential", "gamma", 0.30, "state perspective only; sd 30% [assumption]", True),
    CostInput("treatment_per_episode.moud", "gamma", 0.30, "state perspective only; sd 30% [assumption]", True),
    CostInput("moud_per_day", "gamma", 0.30,
              "ongoing MOUD (treatment.moud_mode = \"ongoing\"), state perspective only; sd 30% as the episode [assumption]",
              True),
)
"""Centred on the scenario's (sourced) values; the relative sd spans the source's range: the
in-care casework sd of 50% puts the 95% range near $700-$5,500 a child-month, inside the
states' range, and the caseload's 15% near 12-22 families (the CWLA 12-17 and above, as
caseloads often exceed the standard)."""


FUNDING_INPUTS: tuple[CostInput, ...] = (
    CostInput("ive_eligible_share", "beta", 0.25,
              "national 2023 penetration 35.8% [IVE-penetration]; Kentucky's own not found: sd 25% [assumption]"),
    CostInput("treatment_medicaid_share", "beta", 0.10, "Medicaid's share of treatment cost; sd 10% [assumption]"),
)
"""Funding shares drawn by the PSA for the payer perspectives (federal, state_funds, county) only:
the agency and state views do not split costs by payer. Statutory shares (FMAP, the 50% federal
prevention and administration match) are known and stay fixed; paths under ``funding``."""


DISCOUNT_RANGE = (0.0, 0.07)
"""The tornado's discount rates: none, and the 7% of U.S. OMB Circular A-94's former base case
[assumption: the range benefit-cost studies commonly report]."""

RATIO_HORIZONS = (1, 2, 3, 5, 8)
"""Years of care counted in the $2.22 table (those within the run-out) [assumption: the claim states none]."""


def distribution(family: str, mean: float, sd: float) -> Any:
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


def cost_distributions(c: Costs, sd_scale: float = 1.0, inputs: Sequence[CostInput] = COST_INPUTS,
                       perspective: str = "state") -> dict[str, Any]:
    """scipy distributions of the uncertain unit costs (treatment prices only for the state perspective)."""
    return {i.path: distribution(i.family, _get(c, i.path), i.rel_sd * sd_scale * _get(c, i.path)) for i in inputs
            if perspective == "state" or not i.treatment}


def effect_scenario(scenario: Scenario, theta: dict[str, float]) -> Scenario:
    """``scenario`` with the effect parameters ``theta`` (dotted paths) set."""
    return scenario.with_changes({k: float(v) for k, v in theta.items()}) if theta else scenario


@dataclass
class UncertaintyResult:
    """PSA draws, the point estimate, the tornado and Morris tables and the $2.22 table."""

    scenario: Scenario
    options: Options
    draws: pd.DataFrame  # one row per PSA draw: inputs and BCA outputs
    point: dict[str, float]  # BCA at point values (mean over the point ledgers)
    tornado: pd.DataFrame
    morris: pd.DataFrame
    ratio_table: pd.DataFrame
    info: dict = field(default_factory=dict)
    by_year_draws: pd.DataFrame = field(default_factory=pd.DataFrame)  # draw, year, perspective, cumulative net
    sobol: pd.DataFrame = field(default_factory=pd.DataFrame)  # input, S1, S1_conf, ST, ST_conf
    voi: VOI | None = None  # EVPI and EVPPI of expanding START (analyses.voi)

    def by_year(self) -> pd.DataFrame:
        """Net savings by programme year over the PSA draws (:func:`start_sim.analyses.by_year.summary`)."""
        return by_year_mod.summary(self.by_year_draws)

    def summary(self) -> pd.DataFrame:
        """Point value, mean, median and 95% range over the PSA draws of the headline outputs."""
        keys = ["net_savings", "savings_per_dollar", "savings_per_dollar_gross", "pv_placement_cost_avoided",
                "pv_program_cost", "pv_usual_casework_credit", "pv_cost", "placement_days_avoided",
                "break_even_reduction_pp"]
        rows = []
        for k in keys:
            v = self.draws[k].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            rows.append({"output": k, "point": self.point[k], "mean": v.mean(), "p2.5": np.percentile(v, 2.5),
                         "median": np.median(v), "p97.5": np.percentile(v, 97.5)})
        return pd.DataFrame(rows)

    @property
    def p_savings_exceed_cost(self) -> float:
        """Share of PSA draws with positive net savings."""
        return float((self.draws["net_savings"] > 0).mean())


def psa(scenario: Scenario, posterior: pd.DataFrame | None, draws: int, seed: int = 1, *,
        cost_sd_scale: float = 1.0, options: Options = DEFAULT, executor: Executor | None = None) -> pd.DataFrame:
    """One row per draw: the effect values, the unit costs and the BCA outputs."""
    return psa_draws(scenario, posterior, draws, seed, cost_sd_scale=cost_sd_scale, options=options,
                     executor=executor)[0]


def psa_draws(scenario: Scenario, posterior: pd.DataFrame | None, draws: int, seed: int = 1, *,
              cost_sd_scale: float = 1.0, options: Options = DEFAULT,
              executor: Executor | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The PSA rows of :func:`psa` and, from the same ledgers and costs, each draw's cumulative net
    savings by programme year and perspective (:func:`start_sim.analyses.by_year.cumulative_net`)."""
    params = _params(posterior)
    if posterior is not None and len(posterior):
        rows = named_rng(seed, "psa:posterior-rows").integers(0, len(posterior), draws)
        thetas = [{p: float(posterior.iloc[r][p]) for p in params} for r in rows]
    else:
        thetas = [{} for _ in range(draws)]
    leds = ordered_map(executor or Executor(), ledger,
                       [(effect_scenario(scenario, th), seed, i) for i, th in enumerate(thetas)], "psa")
    dists = cost_distributions(scenario.costs, cost_sd_scale)
    costs = {p: (d.rvs(size=draws, random_state=named_rng(seed, f"psa:cost:{p}")) if d is not None
                 else np.full(draws, _get(scenario.costs, p))) for p, d in dists.items()}
    shares = _funding_draws(scenario, draws, seed, options.perspective)
    out, years = [], []
    for i, (th, led) in enumerate(zip(thetas, leds, strict=True)):
        values = {p: float(v[i]) for p, v in costs.items()}
        c = with_costs(led.scenario.costs, values)
        funding = {p: float(v[i]) for p, v in shares.items()}
        if funding:
            led = replace(led, scenario=led.scenario.with_changes({f"funding.{p}": v for p, v in funding.items()}))
        out.append({"draw": i, **th, **{f"cost:{k}": v for k, v in values.items()},
                    **{f"funding:{k}": v for k, v in funding.items()}, "families": led.families,
                    **bca(led, c, options)})
        years += [{"draw": i, **r} for r in by_year_mod.cumulative_net(led, c, options)]
    return pd.DataFrame(out), pd.DataFrame(years)


def _funding_draws(scenario: Scenario, draws: int, seed: int, perspective: str) -> dict[str, np.ndarray]:
    """Draws of the uncertain funding shares (payer perspectives only), each from its own named stream."""
    if perspective not in payers.PERSPECTIVES:
        return {}
    out = {}
    for i in FUNDING_INPUTS:
        mean = float(getattr(scenario.funding, i.path))
        d = distribution(i.family, mean, i.rel_sd * mean) if 0 < mean < 1 else None
        if d is not None:
            out[i.path] = d.rvs(size=draws, random_state=named_rng(seed, f"psa:funding:{i.path}"))
    return out


def _params(posterior: pd.DataFrame | None) -> list[str]:
    """The effect parameters of a posterior table (its columns but the draw bookkeeping)."""
    return [c for c in (posterior.columns if posterior is not None else []) if c not in ("draw", "particle")]


def tornado(scenario: Scenario, posterior: pd.DataFrame | None, seed: int = 1, replications: int = 2, *,
            options: Options = DEFAULT, executor: Executor | None = None,
            base_ledgers: list[Ledger] | None = None) -> tuple[pd.DataFrame, dict[str, float], list[Ledger]]:
    """One-way ranges of mean net savings; rows sorted widest first."""
    params = _params(posterior)
    base_theta = {p: float(posterior[p].median()) for p in params}
    base_sc = effect_scenario(scenario, base_theta)
    jobs = [] if base_ledgers is not None else [(base_sc, seed, r) for r in range(replications)]
    ranges = {p: (float(posterior[p].quantile(0.025)), float(posterior[p].quantile(0.975))) for p in params}
    for p in params:
        for v in ranges[p]:
            jobs += [(effect_scenario(scenario, {**base_theta, p: v}), seed, r) for r in range(replications)]
    leds = ordered_map(executor or Executor(), ledger, jobs, "tornado")
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
    low, high = DISCOUNT_RANGE
    lo = mean_bca(base_ledgers, c0, Options(low, options.horizon_years, options.perspective))["net_savings"]
    hi = mean_bca(base_ledgers, c0, Options(high, options.horizon_years, options.perspective))["net_savings"]
    rows.append({"input": "discount rate", "kind": "option", "low_value": low, "high_value": high,
                 "net_at_low": lo, "net_at_high": hi})
    df = pd.DataFrame(rows)
    df["width"] = (df["net_at_high"] - df["net_at_low"]).abs()
    return df.sort_values("width", ascending=False).reset_index(drop=True), point, base_ledgers


def screening_problem(scenario: Scenario, posterior: pd.DataFrame | None,
                      options: Options = DEFAULT) -> tuple[dict, list[str], dict[str, Any]]:
    """The SALib problem of the global indices: effect parameters over their marginal posterior
    2.5-97.5% ranges and uncertain costs over their 2.5-97.5% ranges; with the effect names and
    the cost distributions."""
    params = _params(posterior)
    dists = {p: d for p, d in cost_distributions(scenario.costs, perspective=options.perspective).items()
             if d is not None}
    names = params + [f"costs.{p}" for p in dists]
    bounds = [[float(posterior[p].quantile(0.025)), float(posterior[p].quantile(0.975))] for p in params]
    bounds += [[float(d.ppf(0.025)), float(d.ppf(0.975))] for d in dists.values()]
    bounds = [[lo, hi if hi > lo else lo + 1e-9] for lo, hi in bounds]
    return {"num_vars": len(names), "names": names, "bounds": bounds}, params, dists


def net_savings_at(scenario: Scenario, params: list[str], dists: dict[str, Any], x: np.ndarray, seed: int,
                   options: Options, executor: Executor | None, label: str) -> np.ndarray:
    """Net savings at each row of ``x`` (effects, then costs): one simulation per distinct effect
    vector (replication 0, common random numbers), the costs re-priced on its ledger."""
    c0 = scenario.costs
    keys = [tuple(row[: len(params)]) for row in x]
    unique = list(dict.fromkeys(keys))
    leds = ordered_map(executor or Executor(), ledger, [
        (effect_scenario(scenario, dict(zip(params, k, strict=True))), seed, 0) for k in unique], label)
    by_key = dict(zip(unique, leds, strict=True))
    return np.array([
        bca(by_key[k], with_costs(c0, dict(zip(dists, row[len(params):], strict=True))), options)["net_savings"]
        for k, row in zip(keys, x, strict=True)])


def morris(scenario: Scenario, posterior: pd.DataFrame | None, seed: int = 1, trajectories: int = 8, *,
           options: Options = DEFAULT, executor: Executor | None = None) -> pd.DataFrame:
    """Morris mu* and sigma of net savings (SALib), effect and cost inputs over their ranges."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem, params, dists = screening_problem(scenario, posterior, options)
    x = morris_sample.sample(problem, trajectories, num_levels=4, seed=seed)
    y = net_savings_at(scenario, params, dists, x, seed, options, executor, "morris")
    si = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
    df = pd.DataFrame({"input": problem["names"], "mu_star": si["mu_star"], "sigma": si["sigma"],
                       "mu_star_conf": si["mu_star_conf"]})
    return df.sort_values("mu_star", ascending=False).reset_index(drop=True)


def sobol(scenario: Scenario, posterior: pd.DataFrame | None, seed: int = 1, samples: int = 8, *,
          options: Options = DEFAULT, executor: Executor | None = None) -> pd.DataFrame:
    """Sobol S1 and ST of net savings over the Morris inputs (:mod:`start_sim.analyses.sobol`;
    ``samples`` a power of 2)."""
    problem, params, dists = screening_problem(scenario, posterior, options)
    return sobol_indices(problem, lambda x: net_savings_at(scenario, params, dists, x, seed, options, executor,
                                                           "sobol"), samples, seed)


def uncertainty(scenario: Scenario, posterior: pd.DataFrame | None, draws: int = 200, seed: int = 1, *,
                cost_sd_scale: float = 1.0, options: Options = DEFAULT, tornado_replications: int = 2,
                morris_trajectories: int = 8, sobol_samples: int = 0, workers: int = 1, scheduler: str | None = None,
                progress: Callable[[str], None] | None = None) -> UncertaintyResult:
    """PSA (with its value of information), tornado, Morris and Sobol indices and the $2.22 table;
    see the module docstring."""
    say = progress or (lambda msg: None)
    with Executor(workers, scheduler) as ex:
        say(f"PSA: {draws} draws")
        d, years = psa_draws(scenario, posterior, draws, seed, cost_sd_scale=cost_sd_scale, options=options,
                             executor=ex)
        say("tornado")
        tor, point, base = tornado(scenario, posterior, seed, tornado_replications, options=options, executor=ex)
        mor = pd.DataFrame()
        if morris_trajectories > 0:
            say(f"Morris: {morris_trajectories} trajectories")
            mor = morris(scenario, posterior, seed, morris_trajectories, options=options, executor=ex)
        sob = pd.DataFrame()
        if sobol_samples > 0:
            say(f"Sobol: {sobol_samples} samples")
            sob = sobol(scenario, posterior, seed, sobol_samples, options=options, executor=ex)
    horizons = tuple(h for h in RATIO_HORIZONS if h <= scenario.runout_years + 1e-9)
    ratio = reproduce_ratio(base, horizons=horizons, discount_rate=options.discount_rate)
    info = {"draws": draws, "seed": seed, "cost_sd_scale": cost_sd_scale, "sobol_samples": sobol_samples}
    voi = value_of_information(d, groups_of(d, _params(posterior))) if draws > 1 else None
    return UncertaintyResult(scenario, options, d, point, tor, mor, ratio, info, years, sob, voi)
