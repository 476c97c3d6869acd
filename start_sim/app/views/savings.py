"""*Savings and who pays*: run the scenario; the bottom line, net savings, savings per dollar with
its interval, P(net savings > 0) and the fiscal note by payer; every file to download."""

from __future__ import annotations

import streamlit as st

import start_sim as ss
from start_sim.app import session
from start_sim.app.sentences import NOISE, bottom_line, p_positive
from start_sim.app.widgets import Bar, run_downloads, stop_notice
from start_sim.core.errors import RunError
from start_sim.outputs.formatting import money


def render() -> None:
    s = session.state()
    sc, cfg = session.scenario(), session.settings()
    st.title("Savings and who pays")
    st.write(f"Scenario **{sc.name}**: {cfg.replications} replications, seed {cfg.seed}. Every family is "
             "simulated twice, with START and with usual services, and the difference is what START changes.")
    stop_notice()
    if st.button("Run the scenario", type="primary", key="run-scenario"):
        bar = Bar("Simulating")
        try:
            s["run"] = session.run_scenario(sc, cfg, bar)
            bar.done()
        except (ss.ScenarioError, RunError) as exc:
            st.error(str(exc))
    out = s.get("run")
    if out is None:
        st.info("Press **Run the scenario**. A few replications take seconds; more give narrower intervals.")
        return
    summary, kpis = out.results.summary(), out.results.kpis
    st.subheader("The bottom line")
    st.info(bottom_line(out.results.scenario, summary))  # neutral: the line may be a net cost

    def row(key: str) -> tuple[float, float, float]:
        return tuple(float(summary.at[key, c]) for c in ("mean", "ci_low", "ci_high"))

    cols = st.columns(3)
    m, lo, hi = row("net_savings")
    cols[0].metric("Net savings (present value)", money(m), help=f"{NOISE}: {money(lo)} to {money(hi)}")
    cols[0].caption(f"95% interval {money(lo)} to {money(hi)}")
    m, lo, hi = row("savings_per_dollar")
    cols[1].metric("Savings per $1 of START (net cost)", f"${m:.2f}")
    cols[1].caption(f"95% interval ${lo:.2f} to ${hi:.2f}")
    p = p_positive(kpis)
    cols[2].metric("P(net savings > 0)", f"{p:.0%}")
    cols[2].caption(f"share of the {len(kpis)} replications with net savings above $0")
    st.caption(f"Intervals and P(net savings > 0) show {NOISE.split(', ')[1]}: the variation between "
               "replications with the inputs as given. For the uncertainty of the inputs themselves, run "
               "`start-sim uncertainty`.")
    st.subheader("Who pays and who saves (fiscal note)")
    st.caption("Nominal dollars summed over programme years and counties, mean over replications; costs "
               "(start_cost, extra_treatment) and savings each positive, the net row is savings less costs.")
    st.dataframe(session.fiscal_by_payer(out.folder).style.format("${:,.0f}"))
    st.subheader("Downloads")
    run_downloads(out.folder)
