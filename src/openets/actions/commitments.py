"""Commitments of every kind, each turned into a yearly trajectory or a quantity with its assumptions stated.

Kinds:

* ``absolute_reduction``: a percentage below a base year's emissions by a target year (state and city targets).
* ``cumulative_reduction``: a total quantity of reductions by a target year (Walmart's Project Gigaton).
* ``intensity``: a percentage cut of emissions per unit of activity (GDP, output) by a target year.
* ``net_zero``: net zero or carbon neutral by a year, with the share of the residual met by offsets or removals.
* ``clean_electricity_share``: a share of electricity from clean sources by a year (California SB 100, Hawaii).
* ``money_pledged``: money pledged or given (Delta, Bezos Earth Fund, Bloomberg, foundations' giving).
* ``divestment_screen``: an investor's exclusion rule (BlackRock's thermal-coal screen).
* ``policy_intent``: a declared intent to design a policy, with nothing yet to quantify (the 2018 TCI statement).

The trajectory functions are pure: they take the figures they need (emissions history, activity) as arguments.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from openets.data import table
from openets.errors import InputError

KINDS = ("absolute_reduction", "cumulative_reduction", "intensity", "net_zero", "clean_electricity_share",
         "money_pledged", "divestment_screen", "policy_intent")
NAMED = "actions_commitments.csv"
STATE_TARGETS = "actions_state_targets.csv"
CITY_TARGETS = "actions_city_targets.csv"
CITY_GHG = "GHG emission reduction target:Community"


@dataclass(frozen=True)
class Commitment:
    """One commitment. Percentages are 0-100; `reduction_percent_high` is the ambitious end of a range target."""

    id: str
    actor_id: str
    kind: str
    description: str
    target_year: int | None = None
    base_year: int | None = None
    start_year: int | None = None
    start_month: int | None = None  # the month of start_year it starts in, where known (1-12)
    reduction_percent: float | None = None
    reduction_percent_high: float | None = None
    quantity: float | None = None
    quantity_high: float | None = None
    quantity_unit: str = ""
    offsets_share: float | None = None
    share_points: tuple[tuple[int, float], ...] = ()
    threshold_percent: float | None = None
    in_national_inventory: str = "yes"
    confirmed: str = "yes"
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f"commitment {self.id}: unknown kind {self.kind!r}; kinds are {', '.join(KINDS)}"
            raise InputError(msg)
        for name in ("reduction_percent", "reduction_percent_high", "threshold_percent"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                msg = f"commitment {self.id}: {name} {value} is outside 0-100 (percent)"
                raise InputError(msg)
        if self.start_month is not None and not 1 <= self.start_month <= 12:
            msg = f"commitment {self.id}: start_month {self.start_month} is outside 1-12"
            raise InputError(msg)
        if self.offsets_share is not None and not 0 <= self.offsets_share <= 1:
            msg = f"commitment {self.id}: offsets_share {self.offsets_share} is outside 0-1 (a fraction)"
            raise InputError(msg)


@dataclass(frozen=True)
class Trajectory:
    """Values by year in `unit`, with the assumptions that made them; `extra` holds companion series (offsets)."""

    commitment_id: str
    unit: str
    points: dict[int, float]
    assumptions: tuple[str, ...]
    total: float | None = None
    extra: dict[str, dict[int, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Quantity:
    commitment_id: str
    value: float
    unit: str
    assumptions: tuple[str, ...]
    value_high: float | None = None


@dataclass(frozen=True)
class Unquantified:
    """A commitment that cannot be turned into numbers with the shipped data, and why."""

    commitment_id: str
    reason: str


Result = Trajectory | Quantity | Unquantified


# --- pure building blocks ---------------------------------------------------------------------------------------

def target_level(base_mt: float, reduction_percent: float) -> float:
    """Emissions allowed by a target of `reduction_percent` below a base of `base_mt`."""
    return base_mt * (1.0 - reduction_percent / 100.0)


def piecewise_path(anchor_year: int, anchor_value: float, targets: Iterable[tuple[int, float]],
                   years: Iterable[int]) -> dict[int, float]:
    """Straight lines from the anchor through each (year, level) target, flat after the last one. Targets at or
    before the anchor year are past and ignored; two targets for one year keep the lower level."""
    knots: dict[int, float] = {}
    for year, level in targets:
        if year > anchor_year:
            knots[year] = min(level, knots.get(year, math.inf))
    xs = [anchor_year, *sorted(knots)]
    ys = [anchor_value, *(knots[x] for x in sorted(knots))]
    out: dict[int, float] = {}
    for y in years:
        if y <= xs[0]:
            out[y] = ys[0]
        elif y >= xs[-1]:
            out[y] = ys[-1]
        else:
            i = next(k for k in range(1, len(xs)) if y <= xs[k])
            t = (y - xs[i - 1]) / (xs[i] - xs[i - 1])
            out[y] = ys[i - 1] + t * (ys[i] - ys[i - 1])
    return out


def interpolate_points(points: Iterable[tuple[int, float]]) -> dict[int, float]:
    """Yearly values between stated points (linear), from the first point to the last."""
    pts = sorted(points)
    if not pts:
        return {}
    out = {pts[0][0]: pts[0][1]}
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        for y in range(x0 + 1, x1 + 1):
            out[y] = y0 + (y - x0) / (x1 - x0) * (y1 - y0)
    return out


def even_spread(total: float, first: int, last: int) -> dict[int, float]:
    """`total` spread evenly over the years first..last (both included)."""
    if last < first:
        msg = f"period {first}-{last} ends before it starts; give the first year first"
        raise InputError(msg)
    n = last - first + 1
    return {y: total / n for y in range(first, last + 1)}


def passes_screen(commitment: Commitment, revenue_share_percent: float) -> bool:
    """True when a company with `revenue_share_percent` of its revenue from the screened activity may be held."""
    if commitment.kind != "divestment_screen" or commitment.threshold_percent is None:
        msg = f"commitment {commitment.id} is not a divestment screen with a threshold"
        raise InputError(msg)
    return revenue_share_percent <= commitment.threshold_percent


# --- commitment -> trajectory or quantity ----------------------------------------------------------------------

def evaluate(c: Commitment, *, history: Mapping[int, float] | None = None, anchor_year: int | None = None,
             years: Iterable[int] = (), activity: Mapping[int, float] | None = None, use_high: bool = False,
             net_zero_offsets_share: float = 0.0) -> Result:
    """Turn a commitment into numbers.

    `history` is the actor's emissions by year (Mt); `anchor_year` the last year the path starts from (its value
    from `history`); `years` the years wanted; `activity` the activity by year for intensity targets; `use_high`
    takes the ambitious end of a range target; `net_zero_offsets_share` is the share of a net-zero target assumed
    met by offsets when the commitment does not say.
    """
    years = list(years)
    if c.kind == "absolute_reduction":
        return _absolute(c, history, anchor_year, years, use_high, net_zero_offsets_share)
    if c.kind == "intensity":
        return _intensity(c, history, activity, anchor_year, years)
    if c.kind == "net_zero":
        return _net_zero(c, history, anchor_year, years)
    if c.kind == "cumulative_reduction":
        if c.quantity is None or c.start_year is None or c.target_year is None:
            return Unquantified(c.id, "no total, start or target year stated")
        per_year = even_spread(c.quantity, c.start_year, c.target_year)
        notes = [f"{c.quantity:g} {c.quantity_unit} spread evenly over {c.start_year}-{c.target_year} "
                 f"({per_year[c.start_year]:.1f} Mt a year): the yearly split is not published"]
        if c.in_national_inventory == "no":
            notes.append("outside the US territorial inventory (value chain, worldwide): "
                         "not added to a national pathway")
        return Trajectory(c.id, "MtCO2e avoided per year", per_year, tuple(notes), total=c.quantity)
    if c.kind == "clean_electricity_share":
        if not c.share_points:
            return Unquantified(c.id, "no share stated")
        pts = interpolate_points(c.share_points)
        notes = ["linear between the stated points " + ", ".join(f"{y}: {v:g}%" for y, v in c.share_points)]
        if len(c.share_points) == 1:
            notes.append("only the end point is shipped; the path to it is not")
        notes.append("no electricity-sector emissions are shipped: the effect on emissions is counted only through "
                     "the state's economy-wide target, never twice")
        return Trajectory(c.id, "% of retail electricity", pts, tuple(notes))
    if c.kind == "money_pledged":
        if c.quantity is None:
            return Unquantified(c.id, "no amount stated")
        first, last = c.start_year or c.target_year, c.target_year or c.start_year
        if first is None or last is None:
            return Quantity(c.id, c.quantity, c.quantity_unit, ("no period stated",))
        per_year = even_spread(c.quantity, first, last)
        notes = [f"{c.quantity:,.0f} {c.quantity_unit} over {first}-{last}"
                 + (", spread evenly (the yearly split is not published)" if last > first else "")]
        notes.append("money, not tonnes: no emission effect is attributed")
        return Trajectory(c.id, f"{c.quantity_unit} per year", per_year, tuple(notes), total=c.quantity)
    if c.kind == "divestment_screen":
        notes = [f"excludes companies with more than {c.threshold_percent:g}% of revenue from the screened activity",
                 "a change of owner does not change emissions: no emission effect is attributed"]
        if c.quantity is None:
            return Unquantified(c.id, "no assets in scope stated")
        return Quantity(c.id, c.quantity, c.quantity_unit, tuple(notes))
    # policy_intent
    notes = ["an intent to design a policy, with no cap or price stated: no emission effect can be quantified"]
    return Quantity(c.id, c.quantity or 0.0, c.quantity_unit or "jurisdictions", tuple(notes))


def absolute_target(c: Commitment, *, history: Mapping[int, float] | None, anchor_year: int | None,
                    use_high: bool = False,
                    net_zero_offsets_share: float = 0.0) -> tuple[float, tuple[str, ...]] | Unquantified:
    """The level (Mt) an absolute-reduction target allows in its target year, with the assumptions that set it;
    `history` is the actor's emissions by year and `anchor_year` the year paths start from (its value in
    `history`). Net-zero targets (100%) fall to `net_zero_offsets_share` of the starting level."""
    if c.target_year is None or c.reduction_percent is None:
        return Unquantified(c.id, "no target year or percentage stated")
    pct = c.reduction_percent_high if use_high and c.reduction_percent_high is not None else c.reduction_percent
    notes: list[str] = []
    if pct >= 100:
        # Net zero: the level is zero whatever the base; offsets may cover part of it.
        level_base = None
        notes.append(f"net zero by {c.target_year}: gross emissions fall to {net_zero_offsets_share:.0%} of the "
                     "starting level, the rest offset (share assumed: the target does not say)")
    else:
        if c.base_year is None:
            return Unquantified(c.id, "no base year stated")
        if history is None or c.base_year not in history:
            return Unquantified(c.id, f"no emissions figure for the base year {c.base_year}")
        level_base = history[c.base_year]
    if history is None or anchor_year is None or anchor_year not in history:
        return Unquantified(c.id, "no emissions figure for the starting year")
    start = history[anchor_year]
    level = start * net_zero_offsets_share if level_base is None else target_level(level_base, pct)
    if c.reduction_percent_high is not None and c.reduction_percent_high != c.reduction_percent:
        notes.append(f"range target {c.reduction_percent:g}-{c.reduction_percent_high:g}%: "
                     f"{'ambitious' if use_high else 'lower'} end ({pct:g}%) used")
    if level_base is not None:
        notes.append(f"{pct:g}% below {c.base_year} ({level_base:.1f} Mt) = {level:.1f} Mt in {c.target_year}")
    return level, tuple(notes)


def _absolute(c: Commitment, history: Mapping[int, float] | None, anchor_year: int | None, years: list[int],
              use_high: bool, nz_offsets: float) -> Result:
    target = absolute_target(c, history=history, anchor_year=anchor_year, use_high=use_high,
                             net_zero_offsets_share=nz_offsets)
    if isinstance(target, Unquantified):
        return target
    level, stated = target
    assert history is not None and anchor_year is not None and c.target_year is not None
    start = history[anchor_year]
    notes = [*stated, f"straight line from {anchor_year} ({start:.1f} Mt), level after the target year"]
    if c.target_year <= anchor_year:
        notes.append(f"target year {c.target_year} is not after {anchor_year}: past, not projected")
    path = piecewise_path(anchor_year, start, [(c.target_year, level)], years)
    return Trajectory(c.id, "MtCO2e gross", path, tuple(notes))


def _intensity(c: Commitment, history: Mapping[int, float] | None, activity: Mapping[int, float] | None,
               anchor_year: int | None, years: list[int]) -> Result:
    if c.reduction_percent is None or c.base_year is None or c.target_year is None:
        return Unquantified(c.id, "no percentage, base year or target year stated")
    if history is None or activity is None or c.base_year not in history or c.base_year not in activity:
        return Unquantified(c.id, "no emissions and activity figures for the base year")
    base_intensity = history[c.base_year] / activity[c.base_year]
    start = anchor_year if anchor_year is not None else c.base_year
    start_intensity = history[start] / activity[start] if start in history and start in activity else base_intensity
    goal = base_intensity * (1 - c.reduction_percent / 100.0)
    path_i = piecewise_path(start, start_intensity, [(c.target_year, goal)], years)
    missing = [y for y in years if y not in activity]
    if missing:
        return Unquantified(c.id, f"no activity figure for {missing[0]}")
    out = {y: path_i[y] * activity[y] for y in years}
    notes = (f"intensity {c.reduction_percent:g}% below {c.base_year} by {c.target_year}, straight line in intensity",
             "emissions = intensity x the activity given (its growth is an assumption of the caller)")
    return Trajectory(c.id, "MtCO2e gross", out, notes)


def _net_zero(c: Commitment, history: Mapping[int, float] | None, anchor_year: int | None,
              years: list[int]) -> Result:
    share = c.offsets_share
    if c.quantity is not None and share is not None and share >= 1.0 and c.target_year is not None:
        # Neutral by offsetting a stated quantity: gross emissions are untouched; offsets are the quantity. A start
        # within the first year counts that year's months only (JetBlue began on 1 Jul 2020: half of 2020).
        first = c.start_year or c.target_year
        months = 13 - c.start_month if c.start_month and c.start_year else 12
        offsets = {y: c.quantity * (months / 12 if y == first else 1.0) for y in years if y >= first}
        timing = ("the first year counted in full" if months == 12 else
                  f"{first} prorated to {months} of 12 months ({c.quantity * months / 12:g} of {c.quantity:g} "
                  f"{c.quantity_unit}): "
                  f"offsetting began in {calendar.month_name[13 - months]} {first}")
        notes = (f"{c.quantity:g}-{c.quantity_high or c.quantity:g} {c.quantity_unit} from {first} (low end used; "
                 f"{timing})",
                 "offsets do not lower gross inventory emissions: gross path unchanged by this commitment")
        return Trajectory(c.id, c.quantity_unit, offsets, notes, extra={"offsets_mt": offsets})
    if history is None or anchor_year is None or anchor_year not in history or c.target_year is None:
        return Unquantified(c.id, "no emissions figure for the actor is shipped"
                            + ("" if share is not None else "; the share met by offsets is not stated"))
    share = 0.0 if share is None else share
    start = history[anchor_year]
    gross = piecewise_path(anchor_year, start, [(c.target_year, start * share)], years)
    net = {y: (0.0 if y >= c.target_year else gross[y]) for y in years}
    offsets = {y: gross[y] - net[y] for y in years}
    notes = (f"net zero in {c.target_year}; {share:.0%} of the starting emissions left and offset",
             "gross emissions fall on a straight line; offsets cover the rest from the target year")
    return Trajectory(c.id, "MtCO2e gross", gross, notes, extra={"offsets_mt": offsets, "net_mt": net})


# --- loading ----------------------------------------------------------------------------------------------------

def _f(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _i(text: str) -> int | None:
    return int(text[:4]) if text else None


def _month(text: str) -> int | None:
    """The month of a YYYY-MM or YYYY-MM-DD text (None for a bare year)."""
    return int(text[5:7]) if text and len(text) >= 7 else None


@cache
def load_commitments() -> tuple[Commitment, ...]:
    """State targets (C2ES), city community GHG targets (Climate Mayors compendium) and the named commitments."""
    out: list[Commitment] = []
    for r in table(STATE_TARGETS):
        out.append(Commitment(
            id=f"{r['actor_id']}-{r['target_year']}-{r['reduction_percent']}pct-{r['base_year']}",
            actor_id=r["actor_id"], kind="absolute_reduction",
            description=f"{r['reduction_percent']}% below {r['base_year']} by {r['target_year']} (economy-wide)",
            target_year=_i(r["target_year"]), base_year=_i(r["base_year"]),
            reduction_percent=_f(r["reduction_percent"]), reduction_percent_high=_f(r["reduction_percent_high"]),
            source=f"{r['source']}; {r['legal_instrument_url']}"))
    seen: dict[str, int] = {}
    for r in table(CITY_TARGETS):
        if r["target_category"] != CITY_GHG or not r["percent_value"] or not r["target_year"]:
            continue
        n = seen[r["actor_id"]] = seen.get(r["actor_id"], 0) + 1
        out.append(Commitment(
            id=f"{r['actor_id']}-community-{n}", actor_id=r["actor_id"], kind="absolute_reduction",
            description=r["commitment_text"], target_year=_i(r["target_year"]), base_year=_i(r["base_year"]),
            reduction_percent=_f(r["percent_value"]), source=r["source"]))
    for r in table(NAMED):
        points = tuple((int(y), float(v)) for y, v in (p.split(":") for p in r["share_points"].split(";") if p))
        out.append(Commitment(
            id=r["commitment_id"], actor_id=r["actor_id"], kind=r["kind"], description=r["description"],
            target_year=_i(r["target_year"]), base_year=_i(r["base_year"]), start_year=_i(r["start_year"]),
            start_month=_month(r["start_year"]), reduction_percent=_f(r["reduction_percent"]),
            quantity=_f(r["quantity"]),
            quantity_high=_f(r["quantity_high"]), quantity_unit=r["quantity_unit"],
            offsets_share=_f(r["offsets_share"]),
            share_points=points, threshold_percent=_f(r["threshold_percent"]),
            in_national_inventory=r["in_national_inventory"], confirmed=r["confirmed"],
            source=f"{r['source_title']}, {r['source_url']} ({r['source_date']})", note=r["note"]))
    return tuple(out)


def commitments_of(actor_id: str) -> list[Commitment]:
    return [c for c in load_commitments() if c.actor_id == actor_id]
