"""The value of information in planners' words, shared by the terminal and the uncertainty report."""

from __future__ import annotations

from start_sim.analyses.voi import VOI
from start_sim.outputs.formatting import fmt

GROUP_WORDS = {
    "effect parameters": "a better evaluation of START's effects",
    "unit costs": "better unit-cost figures",
    "funding shares": "firmer funding shares",
}


def voi_sentence(v: VOI, population: str) -> str:
    """EVPI, then what each study (group) is worth at most, as a ceiling on its budget."""
    expand = v.expected_net > 0
    best = "expanding START" if expand else "not expanding"
    if v.evpi <= 0:
        return (f"In every PSA draw the same choice is best ({best}), so no study could change the decision: "
                f"the expected value of perfect information is 0.")
    parts = []
    groups = v.groups[v.groups["kind"] == "group"].set_index("group")
    for name, words in GROUP_WORDS.items():
        if name not in groups.index:
            continue
        r = groups.loc[name]
        if r["inputs"] == 0:
            parts.append(f"{words}: not uncertain in this PSA (fixed at the scenario's values)")
        elif r["evppi"] != r["evppi"]:
            parts.append(f"{words}: not estimated (too few PSA draws for {r['inputs']} inputs; run more draws)")
        elif r["above_evpi"]:
            parts.append(f"{words}: at most the whole (its estimate, ${fmt(r['evppi'])}, exceeds it: too few PSA "
                         f"draws for {r['inputs']} inputs to tell more)")
        else:
            parts.append(f"{words} up to ${fmt(r['evppi'])} ({100 * r['share_of_evpi']:.0f}% of it)")
    share = v.p_expand_best if expand else 1 - v.p_expand_best
    return (f"Deciding now, {best} is the better choice (mean net savings of expanding ${fmt(v.expected_net)}); "
            f"it is the better one in {100 * share:.0f}% of the PSA draws. Resolving every uncertainty before deciding would be worth at most ${fmt(v.evpi)} for "
            f"{population} (${fmt(v.evpi_per_family)} per family referred): " + "; ".join(parts)
            + ". A study that costs more than its value here is not worth paying for before deciding.")
