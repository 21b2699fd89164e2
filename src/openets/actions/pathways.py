"""National pathways: a current-policy baseline plus the extra cuts of commitments, overlaps counted once, against
the US NDC (26-28% below 2005 in 2025; 50-52% in 2030), with the gap reported.

Method (also in docs/coverage_vs_americas_pledge.md):

* Base: gross GHG of the 50 states + DC from EPA's state inventory (AR4 GWP100, excluding LULUCF), 1990-2020.
  2005 = 7,357.7 Mt. The NDC is defined on *net* national emissions (with the land sink) and on the national
  inventory, which also holds territories and unallocated emissions; the NDC percentages are applied here to the
  gross state-sum 2005 level, so that targets and pathway stand on one base. That is an approximation, stated.
* Current-policy baseline: each state's least-squares trend over 2010-2019 (2020, the pandemic year, is shown but
  not used), projected from 2021, floored at zero.
* Commitments: all of a state's economy-wide targets become one path: straight lines from its trend value in 2020
  through each target level in year order (percent below its base-year inventory), flat after the last. A city's
  community targets become one such path on the city's share of its state's emissions (its population share: a
  proxy). Inside a state the stronger of the state's and the city's paths wins in the city's part, so a tonne is
  never cut twice; each city's cut is measured against the state's path before any city is applied, so the order
  of the cities does not matter. A commitment never raises emissions above the baseline (a state path above it is
  the baseline; a city path above the state's part cuts nothing).
* Named company and money commitments are listed with the reason they do not enter a territorial gross pathway
  (value-chain scope, offsets, money).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from openets.actions.actors import ActorBook, load_actors
from openets.actions.commitments import (Commitment, Unquantified, absolute_target, load_commitments,
                                         piecewise_path)
from openets.data import table
from openets.errors import InputError
from openets.plotfile import png_path

SCENARIOS = {
    "current-policy": "EPA state inventory to 2020; after that each state's 2010-2019 trend (no new commitments)",
    "usca-only": "current policy, plus the economy-wide targets of states that were US Climate Alliance members on "
                 "the membership date (default 2019-12-31)",
    "states": "current policy, plus every shipped state economy-wide target (C2ES)",
    "commitments": "every shipped commitment met: state targets (C2ES) and city community targets (Climate Mayors "
                   "compendium); inside a state the stronger target wins",
}
FIT_YEARS = range(2010, 2020)
ANCHOR_YEAR = 2020
NDC_BASE_YEAR = 2005
HORIZON = 2050
FIRST_YEAR = 2005
NATIONAL_TARGETS = "actions_national_targets.csv"


@dataclass(frozen=True)
class NDCComparison:
    """The pathway in one NDC year against the target range (on the gross 50-states-plus-DC base)."""

    year: int
    pathway_mt: float
    percent_below_2005: float
    target_percent_low: float
    target_percent_high: float
    target_mt_low_ambition: float
    target_mt_high_ambition: float
    gap_mt_to_low_ambition: float
    gap_mt_to_high_ambition: float
    source: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Pathway:
    scenario: str
    description: str
    years: tuple[int, ...]
    emissions_mt: dict[int, float]
    baseline_mt: dict[int, float]
    last_observed_year: int
    base_2005_mt: float
    ndc: tuple[NDCComparison, ...]
    applied: tuple[str, ...]
    unquantified: tuple[tuple[str, str], ...]
    assumptions: tuple[str, ...]
    by_state_mt: dict[str, dict[int, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "description": self.description,
            "unit": "MtCO2e gross (AR4, excl. LULUCF), 50 states + DC",
            "last_observed_year": self.last_observed_year, "base_2005_mt": self.base_2005_mt,
            "emissions_mt": {str(y): round(v, 3) for y, v in self.emissions_mt.items()},
            "baseline_mt": {str(y): round(v, 3) for y, v in self.baseline_mt.items()},
            "ndc": [n.to_json() for n in self.ndc],
            "commitments_applied": list(self.applied),
            "commitments_not_in_pathway": [{"commitment": c, "reason": r} for c, r in self.unquantified],
            "assumptions": list(self.assumptions),
        }


def state_history(book: ActorBook, state_id: str) -> dict[int, float]:
    return {y: sy.gross_ghg_mtco2e for (s, y), sy in book.states.items()
            if s == state_id and sy.gross_ghg_mtco2e is not None}


def baseline(book: ActorBook, state_id: str, years: Iterable[int]) -> dict[int, float]:
    """Observed emissions where shipped, else the 2010-2019 least-squares trend, floored at zero."""
    hist = state_history(book, state_id)
    fit = [y for y in FIT_YEARS if y in hist]
    if len(fit) < 2:
        msg = f"{state_id}: fewer than two inventory years in {FIT_YEARS.start}-{FIT_YEARS.stop - 1}; no trend"
        raise InputError(msg)
    slope, intercept = np.polyfit(np.array(fit, dtype=float), np.array([hist[y] for y in fit]), 1)
    last = max(hist)
    return {y: hist[y] if y <= last else max(0.0, float(intercept + slope * y)) for y in years}


def _trend(book: ActorBook, state_id: str, year: int) -> float:
    hist = state_history(book, state_id)
    fit = [y for y in FIT_YEARS if y in hist]
    slope, intercept = np.polyfit(np.array(fit, dtype=float), np.array([hist[y] for y in fit]), 1)
    return max(0.0, float(intercept + slope * year))


def national_targets() -> list[dict[str, str]]:
    return list(table(NATIONAL_TARGETS))


def pathway(scenario: str = "commitments", *, book: ActorBook | None = None,
            commitments: Sequence[Commitment] | None = None, horizon: int = HORIZON,
            membership_date: date = date(2019, 12, 31), use_high: bool = False,
            net_zero_offsets_share: float = 0.0) -> Pathway:
    """The national pathway of a scenario (see SCENARIOS), 2005 to `horizon`."""
    if scenario not in SCENARIOS:
        msg = f"unknown scenario {scenario!r}; scenarios: {', '.join(SCENARIOS)}"
        raise InputError(msg)
    if not ANCHOR_YEAR < horizon <= 2100:
        msg = f"horizon {horizon} must be after {ANCHOR_YEAR} and at most 2100"
        raise InputError(msg)
    book = book or load_actors()
    commitments = load_commitments() if commitments is None else commitments
    years = list(range(FIRST_YEAR, horizon + 1))
    states = book.base_states()
    base = {s: baseline(book, s, years) for s in states}
    applied: list[str] = []
    skipped: list[tuple[str, str]] = []
    result = {s: dict(base[s]) for s in states}
    future = [y for y in years if y > ANCHOR_YEAR]

    use_states = scenario in ("usca-only", "states", "commitments")
    use_cities = scenario == "commitments"
    usca = {a.id for a in book.members("usca", membership_date)} if scenario == "usca-only" else None

    def path_for(mine: Sequence[Commitment], history: dict[int, float],
                 anchor_value: float) -> dict[int, float] | None:
        """One path through every quantified target of one actor, in year order (None: no target applies)."""
        hist = dict(history)
        hist[ANCHOR_YEAR] = anchor_value  # start from the trend, not the pandemic dip
        knots: list[tuple[int, float]] = []
        for c in mine:
            t = absolute_target(c, history=hist, anchor_year=ANCHOR_YEAR, use_high=use_high,
                                net_zero_offsets_share=net_zero_offsets_share)
            if isinstance(t, Unquantified):
                skipped.append((c.id, t.reason))
            elif c.target_year is None or c.target_year <= ANCHOR_YEAR:
                skipped.append((c.id, f"target year {c.target_year} not after {ANCHOR_YEAR}: past, not projected"))
            else:
                applied.append(c.id)
                knots.append((c.target_year, t[0]))
        return piecewise_path(ANCHOR_YEAR, anchor_value, knots, future) if knots else None

    reductions = [c for c in commitments if c.kind == "absolute_reduction"]
    by_actor: dict[str, list[Commitment]] = {}
    for c in reductions:
        by_actor.setdefault(c.actor_id, []).append(c)
    for s in states:
        hist = state_history(book, s)
        anchor = _trend(book, s, ANCHOR_YEAR)
        # The state's own targets: one path through all of them; a target weaker than current policy adds nothing.
        state_path = {y: base[s][y] for y in future}
        if use_states and (usca is None or s in usca) and s in by_actor:
            p = path_for(by_actor[s], hist, anchor)
            if p is not None:
                state_path = {y: min(base[s][y], p[y]) for y in future}
        # Cities: each city's cut is measured against the state path before any city is applied (the stronger of
        # the city's and the state's path wins in the city's part), so the order of the cities does not matter.
        cut = {y: 0.0 for y in future}
        if use_cities:
            pop19 = book.state_year(s, 2019).population or 0
            shares = 0.0
            cities = sorted(a.id for a in book.actors.values() if a.kind == "city" and a.parent_id == s)
            for city_id in cities:
                mine = by_actor.get(city_id, [])
                if not mine:
                    continue
                city = book.actors[city_id]
                if city.population_2019 is None or not pop19:
                    skipped.extend((c.id, "no population figure for the city (its share of the state)") for c in mine)
                    continue
                share = city.population_2019 / pop19
                shares += share
                if shares > 1 + 1e-9:
                    msg = (f"the cities of {s} with targets hold more people in 2019 than the state ({pop19:,}): "
                           f"places overlap or a population is wrong (last added: {city_id}); correct the figures")
                    raise InputError(msg)
                p = path_for(mine, {y: v * share for y, v in hist.items()}, anchor * share)
                if p is not None:
                    cut = {y: cut[y] + max(0.0, state_path[y] * share - p[y]) for y in future}
        for y in future:
            result[s][y] = state_path[y] - cut[y]
    if use_cities:
        # Targets of actors the pathway has no place for are listed, not dropped in silence.
        placed = set(states) | {a.id for a in book.actors.values() if a.kind == "city" and a.parent_id in states}
        for c in reductions:
            if c.actor_id in placed:
                continue
            actor = book.actors.get(c.actor_id)
            if actor is not None and actor.kind == "county":
                reason = "county targets are not applied (no county nesting in the pathway; none is shipped)"
            elif actor is not None and actor.kind in ("state", "territory", "city"):
                reason = "outside the 50-states-plus-DC base of the pathway"
            else:
                reason = "not a state or a city of the 50 states + DC: not applied in the national pathway"
            skipped.append((c.id, reason))

    if scenario == "commitments":
        skipped.extend((c.id, _why_not_in_pathway(c)) for c in commitments if c.kind != "absolute_reduction")
    emissions = {y: sum(result[s][y] for s in states) for y in years}
    base_total = {y: sum(base[s][y] for s in states) for y in years}
    base_2005 = base_total[NDC_BASE_YEAR]
    ndc = tuple(_compare(emissions, base_2005, r) for r in national_targets() if int(r["target_year"]) <= horizon)
    assumptions = (
        f"gross GHG, 50 states + DC (EPA state inventory); 2005 = {base_2005:,.1f} Mt; observed to {ANCHOR_YEAR}",
        f"baseline: each state's least-squares trend {FIT_YEARS.start}-{FIT_YEARS.stop - 1}, from {ANCHOR_YEAR + 1}",
        f"target paths start from the {ANCHOR_YEAR} trend value: one path per actor through each of its targets "
        "in year order, flat after the last",
        "range targets: " + ("ambitious" if use_high else "lower") + " end",
        f"net-zero targets that do not state it: {net_zero_offsets_share:.0%} of the starting emissions offset",
        "cities: population share of the state's emissions; inside a state the stronger path wins, each city's cut "
        "measured against the state's path",
        "a commitment never raises emissions above the baseline",
        "NDC percentages applied to the gross 2005 state sum (the NDC itself is on net national emissions)",
    )
    return Pathway(
        scenario=scenario, description=SCENARIOS[scenario], years=tuple(years), emissions_mt=emissions,
        baseline_mt=base_total, last_observed_year=ANCHOR_YEAR, base_2005_mt=base_2005, ndc=ndc,
        applied=tuple(applied), unquantified=tuple(skipped), assumptions=assumptions, by_state_mt=result)


def _why_not_in_pathway(c: Commitment) -> str:
    if c.kind == "cumulative_reduction":
        return "value-chain reductions worldwide, outside the US territorial inventory"
    if c.kind == "net_zero":
        return ("carbon neutrality through offsets does not lower gross inventory emissions; "
                "no own-reduction path shipped")
    if c.kind == "clean_electricity_share":
        return "no electricity-sector emissions shipped; counted through the state's economy-wide target"
    if c.kind == "money_pledged":
        return "money, not tonnes"
    if c.kind == "divestment_screen":
        return "a change of owner does not change emissions"
    if c.kind == "policy_intent":
        return "no cap or price stated"
    return "not quantified"


def _compare(emissions: dict[int, float], base_2005: float, row: dict[str, str]) -> NDCComparison:
    year = int(row["target_year"])
    low, high = float(row["reduction_percent"]), float(row["reduction_percent_high"])
    value = emissions[year]
    t_low, t_high = base_2005 * (1 - low / 100), base_2005 * (1 - high / 100)
    return NDCComparison(
        year=year, pathway_mt=value, percent_below_2005=100 * (1 - value / base_2005), target_percent_low=low,
        target_percent_high=high, target_mt_low_ambition=t_low, target_mt_high_ambition=t_high,
        gap_mt_to_low_ambition=value - t_low, gap_mt_to_high_ambition=value - t_high, source=row["source"])


def plot(pathways: Sequence[Pathway], path: str | Path) -> Path:
    """Write a PNG of the pathways with the NDC ranges."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = png_path(path)
    fig, ax = plt.subplots(figsize=(9, 5))
    first = pathways[0]
    obs = [y for y in first.years if y <= first.last_observed_year]
    ax.plot(obs, [first.emissions_mt[y] for y in obs], color="black", lw=2, label="EPA state inventory (observed)")
    for p in pathways:
        fut = [y for y in p.years if y >= p.last_observed_year]
        ax.plot(fut, [p.emissions_mt[y] if y > p.last_observed_year else p.baseline_mt[y] for y in fut],
                lw=1.8, label=p.scenario)
    for n in first.ndc:
        ax.vlines(n.year, n.target_mt_high_ambition, n.target_mt_low_ambition, color="tab:red", lw=6, alpha=0.6)
        ax.annotate(f"NDC {n.year}: {n.target_percent_low:g}-{n.target_percent_high:g}% below 2005",
                    (n.year, n.target_mt_high_ambition), textcoords="offset points", xytext=(6, -12), fontsize=8)
    ax.set_ylabel("MtCO2e, gross, 50 states + DC")
    ax.set_title("US pathways: current policy and commitments vs the NDC")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=120)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        msg = f"--plot {out}: cannot write the file ({reason}); give a writable file path ending in .png"
        raise InputError(msg) from None
    finally:
        plt.close(fig)
    return out
