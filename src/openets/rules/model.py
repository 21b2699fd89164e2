"""What a program is: frozen, validated rulebook models and the derived figures (budgets, limits, prices)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from openets.errors import InputError, RulebookError
from openets.rules.kinds import AccountKind, InstrumentKind

# ------------------------------------------------------------------------------------------------------------
# Scalar vocabulary. Allowance counts are strict integers: a rulebook that writes 162.8 (million) or "162800000"
# is wrong, not something to coerce. Prices and shares are Decimal so that rounding to the cent is exact.
# ------------------------------------------------------------------------------------------------------------

Status = Literal["confirmed", "secondary", "unconfirmed"]
CENT = Decimal("0.01")
YEAR_MIN = 1990
YEAR_MAX = 2100  # a limit on every projection loop


def _to_decimal(value: Any) -> Any:
    # TOML has no decimal type: 10.71 arrives as a float, whose shortest repr is the literal the author wrote.
    if isinstance(value, bool):
        msg = f"found {value!r}; expected a number"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError as a validation error, not TypeError
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"found {value!r}; expected a finite number"
            raise ValueError(msg)
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.replace("_", ""))
        except InvalidOperation:
            msg = f"found {value!r}; expected a decimal number such as 10.71"
            raise ValueError(msg) from None
        if not parsed.is_finite():
            msg = f"found {value!r}; expected a finite number"
            raise ValueError(msg)
        return parsed
    return value


def _cents(value: Decimal) -> Decimal:
    if value != value.quantize(CENT):
        msg = f"found {value}; expected a price in whole cents (at most 2 decimal places)"
        raise ValueError(msg)
    return value.quantize(CENT)  # 10.0 from TOML reads as 10.00


Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
Quantity = Annotated[StrictInt, Field(ge=0)]
PositiveQuantity = Annotated[StrictInt, Field(gt=0)]
Fraction = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, le=1)]
Rate = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=Decimal("-0.05"), le=1)]
Price = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0), AfterValidator(_cents)]
Text = Annotated[StrictStr, Field(min_length=1)]
ProgramId = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Jurisdiction = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2,6}$")]

T = TypeVar("T")


def floor_int(value: Decimal) -> int:
    """Whole allowances: shares of a budget are rounded down, never up, so nothing is created by rounding."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def round_cent(value: Decimal) -> Decimal:
    """Prices are announced in whole cents, half a cent rounding up (§95911(c); RGGI minimum reserve price)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(_Frozen):
    """Where a value comes from and how sure we are of it."""

    source: Text = Field(description="regulation section or official document the value is read from")
    status: Status = Field(description="confirmed (primary text), secondary (reputable summary), unconfirmed")
    note: str | None = None


class Provenance(Sourced):
    """A per-year override of a series' source and status."""


class YearSeries(Sourced, Generic[T]):
    """Values by year, with one source for the series and optional per-year source/status overrides."""

    values: dict[Year, T]
    per_year: dict[Year, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_years(self) -> YearSeries[T]:
        if not self.values:
            msg = "found an empty `values` table; expected at least one `YEAR = value` line"
            raise ValueError(msg)
        stray = sorted(set(self.per_year) - set(self.values))
        if stray:
            msg = (
                f"found per_year entries for {stray}, which have no value; expected years among "
                f"{min(self.values)}-{max(self.values)}. Fix: add the value or remove the per_year entry"
            )
            raise ValueError(msg)
        return self

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self.values))

    def get(self, year: int) -> T | None:
        return self.values.get(year)

    def provenance(self, year: int) -> Sourced:
        return self.per_year.get(year, self)


class QuantitySeries(YearSeries[Quantity]):
    """Allowance counts by year."""


class FractionSeries(YearSeries[Fraction]):
    """Shares (0-1) by year."""


class PriceSeries(YearSeries[Price]):
    """Prices by year in the program currency, whole cents."""


class NamedQuantitySeries(QuantitySeries):
    """A named allowance series added to or subtracted from a budget (a state budget, a bank adjustment)."""

    id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    description: Text


# ------------------------------------------------------------------------------------------------------------
# Sections of a rulebook file.
# ------------------------------------------------------------------------------------------------------------


class ProgramInfo(Sourced):
    """The [program] table: identity, units and lifetime."""

    id: ProgramId
    name: Text
    kind: Literal["program", "linkage"] = "program"
    jurisdictions: tuple[Jurisdiction, ...] = Field(min_length=1)
    allowance_unit: Literal["tCO2e", "tCO2", "short_ton"]
    currency: Literal["USD", "CAD", "CNY", "EUR"]
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _check(self) -> ProgramInfo:
        if len(set(self.jurisdictions)) != len(self.jurisdictions):
            msg = f"found duplicate jurisdictions {list(self.jurisdictions)}; expected each code once"
            raise ValueError(msg)
        if self.end is not None and self.end < self.start:
            msg = f"found end {self.end} before start {self.start}; expected end on or after start"
            raise ValueError(msg)
        return self


class Coverage(Sourced):
    """Who is covered: the inclusion threshold and the sectors."""

    threshold: PositiveQuantity
    threshold_unit: Literal["tCO2e_per_year", "MW"]
    sectors: tuple[Text, ...] = ()


class Escalation(Sourced):
    """How a price rises each year after the last published value: rate, plus CPI inflation when `plus_cpi`."""

    rate: Fraction
    plus_cpi: StrictBool


class ReserveTier(_Frozen):
    """A reserve tier, price ceiling or trigger with its price by year.

    `role` says what the price does, so that code never guesses it from an id: a `tier` is a price at which
    reserve allowances are sold, the `price_ceiling` the price of unlimited price-ceiling units, a `trigger`
    the auction price that releases (price-containment reserve) or withholds (emissions-containment reserve)
    allowances. Without `escalation` the tier ends with its last published year (California's third tier
    ended in 2020); with it, later years are projected like the auction reserve price.
    """

    id: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    prices: PriceSeries
    role: Literal["tier", "price_ceiling", "trigger"] = "tier"
    escalation: Escalation | None = None


class Reserve(_Frozen):
    """A reserve placed from (or beside) the budget: APCR, Québec reserve, RGGI CCR, a withholding reserve, or a
    set-aside that is neither auctioned nor freely allocated at issuance (California's voluntary renewable
    electricity reserve)."""

    id: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Text
    kind: Literal["price_containment", "emissions_containment", "set_aside"]
    share: FractionSeries | None = None
    share_basis: Literal["budget", "total_budget"] = "budget"
    quantity: QuantitySeries | None = None
    tiers: tuple[ReserveTier, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Reserve:
        if self.share is None and self.quantity is None:
            msg = (
                "found neither `share` nor `quantity`; "
                "expected at least one. Fix: add [reserves.share] or [reserves.quantity]"
            )
            raise ValueError(msg)
        if self.share is not None and self.quantity is not None:
            both = sorted(set(self.share.values) & set(self.quantity.values))
            if both:
                msg = (
                    f"found both a share and a fixed quantity for {both}; expected one rule per year. "
                    "Fix: remove the year from one of them"
                )
                raise ValueError(msg)
        return self


class CpiAssumption(Sourced):
    """A default inflation rate for projections: an assumption, not a forecast; callers can override it."""

    value: Rate


class ReservePriceRule(_Frozen):
    """The auction reserve (minimum) price: published values, then the escalation rule."""

    published: PriceSeries
    escalation: Escalation
    default_cpi: CpiAssumption | None = None

    @model_validator(mode="after")
    def _check(self) -> ReservePriceRule:
        years = self.published.years
        gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
        if gaps:
            msg = (
                f"found gaps in the published prices at {gaps}; "
                f"expected one price for every year {years[0]}-{years[-1]}"
            )
            raise ValueError(msg)
        if self.escalation.plus_cpi and self.default_cpi is None:
            msg = (
                "found plus_cpi = true but no [auction.reserve_price.default_cpi]; "
                "expected a default CPI assumption"
            )
            raise ValueError(msg)
        return self


class AuctionFormat(Sourced):
    """The auction mechanics that clearing code needs."""

    lot_size: PositiveQuantity
    rounds: Literal["single"]
    pricing: Literal["uniform"]
    frequency: Literal["quarterly"]
    bid_currencies: tuple[Literal["USD", "CAD"], ...] = Field(min_length=1)


class UndersubscribedPrice(Sourced):
    """The settlement price when bids at or above the floor do not take all the supply."""

    rule: Literal["reserve_price", "lowest_accepted_bid"]


class PurchaseLimit(Sourced):
    """The share of the allowances offered at one auction that one buyer (or associated group) may buy."""

    buyer: Literal[
        "covered_entity", "electrical_distribution_utility", "emitter", "participant", "other", "any"
    ]
    auction: Literal["current", "advance", "any"]
    share: Fraction
    from_year: Year
    to_year: Year | None = None


class FirstAuction(Sourced):
    """The quarter of a jurisdiction's first auction; from then on it auctions every quarter."""

    quarter: Annotated[StrictStr, Field(pattern=r"^[0-9]{4}Q[1-4]$")]


class UnsoldRules(Sourced):
    """What becomes of allowances an auction does not sell.

    Unsold state-owned current allowances wait in the auction holding account until `redesignate_after`
    consecutive current auctions have settled above the floor; then each auction re-offers them, oldest first, up
    to `redesignation_cap` of the allowances newly offered at that auction (state-owned and consigned, the
    jurisdiction's own). Unsold advance allowances join the current auctions of their vintage. Unsold consigned
    allowances return to the next auction. State-owned allowances still unsold `to_reserve_after_months` after
    they first went unsold move to the price-containment reserve.
    """

    redesignate_after: PositiveQuantity
    redesignation_cap: Fraction
    to_reserve_after_months: PositiveQuantity | None = None


class Auction(_Frozen):
    """Auction format, floor price, advance share and purchase limits."""

    format: AuctionFormat | None = None
    first_auction: FirstAuction | None = None
    undersubscribed_price: UndersubscribedPrice | None = None
    reserve_price: ReservePriceRule | None = None
    reserve_price_from: ProgramId | None = Field(
        default=None, description="linkage only: the member program whose reserve price this market reports"
    )
    advance_share: FractionSeries | None = None
    purchase_limits: tuple[PurchaseLimit, ...] = ()
    unsold: UnsoldRules | None = None
    note: str | None = None


class OffsetLimit(Sourced):
    """The share of a compliance obligation that may be met with offset credits, for a span of years."""

    from_year: Year
    to_year: Year | None = None
    share: Fraction


class CompliancePeriod(Sourced):
    """A compliance (control) period: full true-up after its last year."""

    id: Text
    start_year: Year
    end_year: Year

    @model_validator(mode="after")
    def _check(self) -> CompliancePeriod:
        if self.end_year < self.start_year:
            msg = (
                f"found end_year {self.end_year} before start_year {self.start_year}; "
                f"expected end_year >= start_year"
            )
            raise ValueError(msg)
        return self


class InterimObligation(Sourced):
    """What must be surrendered (or held) for the years that do not end a compliance period.

    `from_year` is the first emissions year the obligation covers.
    """

    share: Fraction
    basis: Literal["previous_year_emissions", "same_year_emissions"]
    from_year: Year


class UntimelySurrender(Sourced):
    """The penalty obligation for instruments not surrendered on time."""

    multiplier: PositiveQuantity
    min_allowance_share: Fraction | None = None


class SurrenderRules(Sourced):
    """When instruments are due and which vintages may meet an obligation.

    `deadline` is the nominal day (MM-DD) of the year after the obligation's last data year (the regulations
    move a deadline on a non-business day to the next business day). `vintage_limit`: allowances of vintages up
    to the obligation's last data year (`obligation_year`) or up to the compliance period's last year
    (`period_end`).
    """

    deadline: Annotated[StrictStr, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    vintage_limit: Literal["obligation_year", "period_end"]

    @property
    def month_day(self) -> tuple[int, int]:
        month, day = self.deadline.split("-")
        return int(month), int(day)


class Compliance(_Frozen):
    """Compliance periods, interim obligation, surrender rules and the untimely-surrender penalty."""

    periods: tuple[CompliancePeriod, ...] = Field(min_length=1)
    interim: InterimObligation | None = None
    surrender: SurrenderRules | None = None
    untimely_surrender: UntimelySurrender | None = None
    shortfall_cap: ShortfallCap | None = None

    @model_validator(mode="after")
    def _check(self) -> Compliance:
        for before, after in pairwise(self.periods):
            if after.start_year != before.end_year + 1:
                msg = (
                    f"found period {after.id} starting {after.start_year} after {before.id} "
                    f"ending {before.end_year}; "
                    "expected consecutive periods without gaps or overlaps"
                )
                raise ValueError(msg)
        return self


class HoldingLimit(Sourced):
    """A holding limit: base_share x min(B, base_quantity) + marginal_share x max(B - base_quantity, 0).

    B is the budget basis: the program's own budget, or the combined budget of the linked market.
    """

    base_quantity: PositiveQuantity
    base_share: Fraction
    marginal_share: Fraction
    budget_basis: Literal["own", "linked_market"]
    linkage: ProgramId | None = Field(
        default=None,
        description="with budget_basis linked_market: the linkage rulebook whose members are summed",
    )
    counted_account_kinds: tuple[AccountKind, ...] = Field(min_length=1)
    excluded_account_kinds: tuple[AccountKind, ...] = ()
    compliance_exemption: str | None = None

    @model_validator(mode="after")
    def _check(self) -> HoldingLimit:
        both = sorted(set(self.counted_account_kinds) & set(self.excluded_account_kinds))
        if both:
            msg = (
                f"found {[k.value for k in both]} both counted and excluded; "
                f"expected each account kind in one list"
            )
            raise ValueError(msg)
        return self


class Holdings(Sourced):
    """Which account kinds may hold which instrument kinds."""

    may_hold: dict[InstrumentKind, tuple[AccountKind, ...]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Holdings:
        for instrument, kinds in self.may_hold.items():
            if AccountKind.ISSUANCE not in kinds:
                msg = (
                    f"found {instrument.value} without the issuance account kind; "
                    "expected issuance in every list, "
                    "since instruments are issued from it"
                )
                raise ValueError(msg)
        return self


class Membership(Sourced):
    """A member of a linked market: which program, for which jurisdiction, from when to when."""

    program: ProgramId | None = Field(
        default=None, description="member rulebook id; omitted if none is shipped"
    )
    jurisdiction: Jurisdiction
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _check(self) -> Membership:
        if self.end is not None and self.end < self.start:
            msg = f"found end {self.end} before start {self.start}; expected end on or after start"
            raise ValueError(msg)
        if self.program is None and not self.note:
            msg = (
                "found a member without `program` and without `note`; "
                "expected a note saying why no rulebook is linked"
            )
            raise ValueError(msg)
        return self

    def overlaps(self, year: int) -> bool:
        return self.start <= date(year, 12, 31) and (self.end is None or self.end >= date(year, 1, 1))


class LoadTier(Sourced):
    """One band of the load (output) correction factor for units whose category applies it: for a load factor F
    at or above `from_load` (and below the next band's), the factor is `constant`, or a + b * (c - 100 F)
    (`linear`), or a ** (b - c F) (`power`)."""

    from_load: Fraction
    kind: Literal["constant", "linear", "power"]
    a: Decimal
    b: Decimal = Decimal(0)
    c: Decimal = Decimal(0)


class UnitCategory(Sourced):
    """A unit category of a benchmark allocation: its benchmarks and which correction factors apply."""

    id: StrictStr
    name: Text
    supply_benchmark: Decimal = Field(gt=0, description="allowances per MWh of electricity supplied")
    heat_benchmark: Decimal = Field(ge=0, description="allowances per GJ of heat supplied")
    cooling: dict[Literal["water", "air"], Decimal] = Field(default_factory=dict)
    heat_ratio_coefficient: Decimal = Field(ge=0, le=1, description="heat-supply factor = 1 - k * heat ratio")
    load_correction: bool = False
    obligation_at_most_allocation: bool = False


class BenchmarkAllocation(Sourced):
    """Free allocation by output-based benchmarks, unit by unit (China's national ETS)."""

    categories: tuple[UnitCategory, ...] = Field(min_length=1)
    load_tiers: tuple[LoadTier, ...] = ()
    pre_allocation_share: Fraction | None = None

    @model_validator(mode="after")
    def _check(self) -> BenchmarkAllocation:
        ids = [c.id for c in self.categories]
        if len(set(ids)) != len(ids):
            msg = f"found duplicate unit categories {ids}; expected each id once"
            raise ValueError(msg)
        if any(c.load_correction for c in self.categories) and not self.load_tiers:
            msg = "a category applies the load correction but no [[benchmark_allocation.load_tiers]] are given"
            raise ValueError(msg)
        return self


class ShortfallCap(Sourced):
    """A cap on what a unit must buy: its obligation is at most its free allocation plus `share` of its verified
    emissions."""

    share: Fraction


class AllocationDistribution(Sourced):
    """When free allocation reaches the entities: `first_share` of the year's estimated allocation on `first_date`
    (MM-DD) of the vintage year, the rest on `rest_date` of the year `rest_year_offset` later."""

    first_share: Fraction
    first_date: Annotated[StrictStr, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    rest_date: Annotated[StrictStr, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    rest_year_offset: Annotated[StrictInt, Field(ge=0, le=3)] = 1


class MsrIntake(Sourced):
    """One span of the Market Stability Reserve's intake rule: above `threshold` allowances in circulation (TNAC),
    `rate` of the TNAC goes into the reserve; from `buffer_from` the intake is TNAC - threshold when the TNAC lies
    between the threshold and `buffer_to` (where the two rules meet)."""

    from_year: Year
    to_year: Year | None = None
    threshold: PositiveQuantity
    rate: Fraction
    buffer_to: PositiveQuantity | None = None


class MarketStabilityReserve(Sourced):
    """The EU Market Stability Reserve (Decision (EU) 2015/1814 as amended): auction volumes are cut by the
    intake, or raised by a release, according to the total number of allowances in circulation (TNAC) of year X,
    published in May of X+1 and applied over the twelve months from September of X+1 (so 4/12 in X+1 and 8/12 in
    X+2); allowances held in the reserve above a cap are invalidated."""

    start_year: Year
    intake: tuple[MsrIntake, ...] = Field(min_length=1)
    release_threshold: PositiveQuantity
    release_quantity: PositiveQuantity
    first_month: Annotated[StrictInt, Field(ge=1, le=12)] = Field(
        description="month of year X+1 in which the intake or release based on year X's TNAC starts"
    )
    holding_cap: QuantitySeries | None = Field(
        default=None, description="invalidation: holdings above the year's value are no longer valid (1 January)"
    )

    def intake_of(self, year: int, tnac: float) -> float:
        """Allowances placed in the reserve on the basis of year `year`'s TNAC (0 when none)."""
        rule = next((r for r in self.intake if r.from_year <= year and (r.to_year is None or year <= r.to_year)), None)
        if rule is None or tnac <= rule.threshold:
            return 0.0
        if rule.buffer_to is not None and tnac <= rule.buffer_to:
            return float(round(tnac - rule.threshold))
        return float(round(float(rule.rate) * tnac))  # the Commission rounds to whole allowances


class Rulebook(_Frozen):
    """One rulebook file, validated: the schema of `rules/programs/*.toml`."""

    program: ProgramInfo
    coverage: Coverage | None = None
    budgets: QuantitySeries | None = None
    budget_additions: tuple[NamedQuantitySeries, ...] = ()
    budget_adjustments: tuple[NamedQuantitySeries, ...] = ()
    reserves: tuple[Reserve, ...] = ()
    auction: Auction | None = None
    offset_limits: tuple[OffsetLimit, ...] = ()
    compliance: Compliance | None = None
    holding_limit: HoldingLimit | None = None
    holdings: Holdings | None = None
    allocation_distribution: AllocationDistribution | None = None
    benchmark_allocation: BenchmarkAllocation | None = None
    auction_share: FractionSeries | None = Field(
        default=None, description="share of each year's budget that is auctioned (the rest is allocated free)"
    )
    msr: MarketStabilityReserve | None = None
    consignment: dict[StrictStr, FractionSeries] = Field(
        default_factory=dict,
        description="the least share of each allocation group's free allocation that must be consigned to auction",
    )
    members: tuple[Membership, ...] = ()

    @model_validator(mode="after")
    def _check_kind(self) -> Rulebook:
        kind = self.program.kind
        if kind == "program":
            if self.budgets is None and self.benchmark_allocation is None:
                msg = (
                    "found neither [budgets] (a fixed cap) nor [benchmark_allocation] (a cap that is the sum of "
                    "benchmark allocations); expected one in every rulebook of kind 'program'"
                )
                raise ValueError(msg)
            if self.holdings is None:
                msg = "found no [holdings] table; expected it in every rulebook of kind 'program'"
                raise ValueError(msg)
            if self.members:
                msg = (
                    "found [[members]] in a rulebook of kind 'program'; "
                    "expected members only with kind = 'linkage'"
                )
                raise ValueError(msg)
            if len(self.program.jurisdictions) != 1:
                msg = (
                    f"found jurisdictions {list(self.program.jurisdictions)}; expected exactly one for a program "
                    "(several jurisdictions are joined by a linkage rulebook)"
                )
                raise ValueError(msg)
        else:
            if self.budgets is not None or self.budget_additions or self.budget_adjustments:
                msg = (
                    "found budgets in a linkage rulebook; "
                    "expected them only in member programs (a linkage sums them)"
                )
                raise ValueError(msg)
            if len(self.members) < 2:
                msg = f"found {len(self.members)} [[members]]; expected at least two in a linkage"
                raise ValueError(msg)
            codes = [m.jurisdiction for m in self.members]
            if sorted(set(codes)) != sorted(self.program.jurisdictions):
                msg = (
                    f"found member jurisdictions {codes} but program.jurisdictions "
                    f"{list(self.program.jurisdictions)}; expected the same codes"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _check_offsets(self) -> Rulebook:
        spans = sorted(self.offset_limits, key=lambda lim: lim.from_year)
        for before, after in pairwise(spans):
            if before.to_year is None or before.to_year >= after.from_year:
                msg = (
                    f"found offset limits overlapping at {after.from_year}; expected spans that do not overlap "
                    "(set to_year on the earlier one)"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _check_holding_limit(self) -> Rulebook:
        limit = self.holding_limit
        own_linked = (
            limit is not None and limit.budget_basis == "linked_market" and self.program.kind == "program"
        )
        if own_linked and limit is not None and limit.linkage is None:
            msg = "found budget_basis = 'linked_market' without `linkage`; expected the linkage rulebook id"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _check_tier_roles(self) -> Rulebook:
        # A schedule reports one price ceiling and one trigger per kind of reserve; two would be ambiguous.
        ceilings = [f"{r.id}.{t.id}" for r in self.reserves for t in r.tiers if t.role == "price_ceiling"]
        if len(ceilings) > 1:
            msg = f"found several price ceilings {ceilings}; expected at most one tier with role 'price_ceiling'"
            raise ValueError(msg)
        for kind in ("price_containment", "emissions_containment"):
            triggers = [
                f"{r.id}.{t.id}"
                for r in self.reserves
                if r.kind == kind
                for t in r.tiers
                if t.role == "trigger"
            ]
            if len(triggers) > 1:
                msg = f"found several {kind} triggers {triggers}; expected at most one with role 'trigger'"
                raise ValueError(msg)
        # Tier prices escalate with the same CPI as the reserve price, so they share its default assumption.
        cpi_tiers = [
            f"{r.id}.{t.id}" for r in self.reserves for t in r.tiers if t.escalation and t.escalation.plus_cpi
        ]
        price_rule = self.auction.reserve_price if self.auction is not None else None
        if cpi_tiers and (price_rule is None or price_rule.default_cpi is None):
            msg = (
                f"found tiers {cpi_tiers} escalating with CPI but no [auction.reserve_price.default_cpi]; "
                "expected the default CPI assumption they share with the reserve price"
            )
            raise ValueError(msg)
        return self


# ------------------------------------------------------------------------------------------------------------
# The resolved program and the figures derived from it.
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A reserve (floor) price for one year; `projected` when it rests on a CPI assumption."""

    year: int
    price: Decimal
    currency: str
    projected: bool
    source: str
    status: Status

    def to_json(self) -> dict[str, Any]:
        return {
            "price": str(self.price),
            "currency": self.currency,
            "projected": self.projected,
            "source": self.source,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class TierPrice:
    """One reserve tier, price ceiling or trigger price of a year, with the reserve it belongs to."""

    reserve: str
    reserve_kind: str  # price_containment or emissions_containment
    tier: str
    role: str  # tier, price_ceiling or trigger
    point: PricePoint


@dataclass(frozen=True)
class AuctionRules:
    """The auction parameters of one year that clearing needs, each with its source in `sources`.

    Shares are of the allowances offered at one auction; `purchase_limits` applies to current auctions and
    `advance_purchase_limits` to advance auctions, by bidder type ("covered", "utility", "other").
    `undersubscribed_price` is "reserve_price" or "lowest_accepted_bid".
    """

    year: int
    lot_size: int
    bid_currencies: tuple[str, ...]
    undersubscribed_price: str
    purchase_limits: dict[str, Decimal]
    advance_purchase_limits: dict[str, Decimal]
    sources: dict[str, str]


class LinkedMarket(_Frozen):
    """A linkage rulebook with the rulebooks of its members (by program id), as resolved by the loader."""

    linkage: Rulebook
    member_rulebooks: dict[str, Rulebook]

    def rulebook_of(self, membership: Membership) -> Rulebook | None:
        return self.member_rulebooks.get(membership.program) if membership.program else None

    def active(self, year: int) -> list[Membership]:
        return [m for m in self.linkage.members if m.overlaps(year)]

    def is_member(self, jurisdiction: str, year: int) -> bool:
        return any(m.jurisdiction == jurisdiction for m in self.active(year))

    def combined_budget(self, year: int) -> int | None:
        """Sum of the budgets of the members linked at any time in `year`; None if none has one."""
        found = [
            rb.budgets.values[year]
            for m in self.active(year)
            if (rb := self.rulebook_of(m)) is not None
            and rb.budgets is not None
            and year in rb.budgets.values
        ]
        return sum(found) if found else None


def _span(years: tuple[int, ...] | list[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else "none"


class Program(_Frozen):
    """A program ready to use: its rulebook plus, for linkages and linked holding limits, the linked market."""

    rulebook: Rulebook
    market: LinkedMarket | None = None
    origin: str | None = Field(default=None, description="file the rulebook was read from (for messages)")

    # -- identity --------------------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.rulebook.program.id

    @property
    def name(self) -> str:
        return self.rulebook.program.name

    @property
    def kind(self) -> str:
        return self.rulebook.program.kind

    @property
    def allowance_unit(self) -> str:
        return self.rulebook.program.allowance_unit

    @property
    def currency(self) -> str:
        return self.rulebook.program.currency

    @property
    def jurisdictions(self) -> tuple[str, ...]:
        return self.rulebook.program.jurisdictions

    @property
    def members(self) -> list[Membership]:
        """A linkage's memberships (program id, jurisdiction, start, end); empty for a single program."""
        return list(self.rulebook.members)

    @property
    def is_linkage(self) -> bool:
        return self.rulebook.program.kind == "linkage"

    def _check_jurisdiction(self, jurisdiction: str | None) -> None:
        if jurisdiction is not None and jurisdiction not in self.jurisdictions:
            msg = (
                f"program {self.id!r} has no jurisdiction {jurisdiction!r}; "
                f"valid jurisdictions: {', '.join(self.jurisdictions)}"
            )
            raise InputError(msg)

    def _linked(self) -> LinkedMarket:
        if self.market is None:  # the loader always resolves linkages
            msg = (
                f"linkage {self.id!r} was built without its members; "
                "load it with openets.rules.load_program or load_rulebook_file"
            )
            raise RulebookError(msg)
        return self.market

    def _member(self, jurisdiction: str) -> Program:
        self._check_jurisdiction(jurisdiction)
        market = self._linked()
        # Validation guarantees that every jurisdiction of a linkage is one member's.
        membership = next(m for m in market.linkage.members if m.jurisdiction == jurisdiction)
        rulebook = market.rulebook_of(membership)
        if rulebook is None:
            msg = (
                f"linkage {self.id!r}: jurisdiction {jurisdiction} has no member rulebook "
                f"({membership.note or 'none shipped'})"
            )
            raise InputError(msg)
        return Program(rulebook=rulebook)

    # -- budgets ---------------------------------------------------------------------------------------------
    # The tables are computed once per (immutable) Program: the registry asks for vintages and holding limits on
    # every operation.

    @cached_property
    def _budget_table(self) -> dict[int, int]:
        if not self.is_linkage:
            if self.rulebook.budgets is None:  # an intensity-based cap: the sum of benchmark allocations
                return {}
            return dict(sorted(self.rulebook.budgets.values.items()))
        totals: dict[int, int] = {}
        for table in self._jurisdiction_tables.values():
            for year, budget in table.items():
                totals[year] = totals.get(year, 0) + budget
        return dict(sorted(totals.items()))

    @cached_property
    def _jurisdiction_tables(self) -> dict[str, dict[int, int]]:
        if not self.is_linkage:
            return {self.jurisdictions[0]: self._budget_table}
        market = self._linked()
        out: dict[str, dict[int, int]] = {}
        for membership in market.linkage.members:
            rulebook = market.rulebook_of(membership)
            values = rulebook.budgets.values if rulebook and rulebook.budgets else {}
            out[membership.jurisdiction] = {y: v for y, v in sorted(values.items()) if membership.overlaps(y)}
        return out

    @cached_property
    def _vintage_tables(self) -> dict[str | None, tuple[int, ...]]:
        if not self.is_linkage:
            years = tuple(self._budget_table)
            if not years and self.rulebook.compliance is not None:  # no fixed cap: the compliance years' vintages
                years = tuple(y for p in self.rulebook.compliance.periods for y in range(p.start_year, p.end_year + 1))
            return {None: years, self.jurisdictions[0]: years}
        market = self._linked()
        out: dict[str | None, tuple[int, ...]] = {}
        for membership in market.linkage.members:
            rulebook = market.rulebook_of(membership)
            values = rulebook.budgets.values if rulebook is not None and rulebook.budgets is not None else {}
            last = membership.end.year if membership.end else YEAR_MAX
            out[membership.jurisdiction] = tuple(sorted(y for y in values if y <= last))
        out[None] = tuple(sorted({y for years in out.values() for y in years}))
        return out

    @property
    def budgets(self) -> dict[int, int]:
        """Annual budget by year; for a linkage, the sum of the members linked at any time in that year."""
        return dict(self._budget_table)

    def budgets_by_jurisdiction(self) -> dict[str, dict[int, int]]:
        """Budgets of each jurisdiction by year (for a linkage, only the years it was linked)."""
        return {j: dict(table) for j, table in self._jurisdiction_tables.items()}

    def budget(self, year: int, jurisdiction: str | None = None) -> int:
        """The annual allowance budget of `year`, for the whole program or one jurisdiction."""
        self._check_jurisdiction(jurisdiction)
        if jurisdiction is None or not self.is_linkage:
            table, where = self._budget_table, self.id
        else:
            # A member's budget of any of its vintages, linked that year or not (Québec 2013 exists in WCI).
            vintages = self._vintage_tables[jurisdiction]
            if year in vintages:
                return self._member(jurisdiction).budget(year)
            table, where = dict.fromkeys(vintages, 0), f"{self.id} ({jurisdiction})"
        if year not in table:
            if not table and self.rulebook.benchmark_allocation is not None:
                msg = (
                    f"{where} has no fixed allowance budget: its cap is the sum of the units' benchmark allocations "
                    "(openets.compliance.benchmark)"
                )
                raise InputError(msg)
            msg = (
                f"{where} has no allowance budget for {year}; budget years are {_span(list(table))}. "
                "Pick a year in that range"
            )
            raise InputError(msg)
        return table[year]

    def budget_source(self, year: int, jurisdiction: str | None = None) -> str:
        """The source of the budget figure of `year` (for a linkage, the members' sources joined)."""
        if not self.is_linkage:
            assert self.rulebook.budgets is not None
            return self.rulebook.budgets.provenance(year).source
        market = self._linked()
        parts = []
        for membership in market.active(year):
            if jurisdiction is not None and membership.jurisdiction != jurisdiction:
                continue
            rulebook = market.rulebook_of(membership)
            if rulebook is not None and rulebook.budgets is not None and year in rulebook.budgets.values:
                parts.append(f"{membership.jurisdiction}: {rulebook.budgets.provenance(year).source}")
        return "; ".join(parts)

    def vintages(self, jurisdiction: str | None = None) -> tuple[int, ...]:
        """Years for which allowances of `jurisdiction` (all, if None) exist: its budget years.

        In a linkage a member's vintages are its budget years up to the year it left, including years before it
        joined (Québec's 2013 allowances entered the linked market in 2014).
        """
        self._check_jurisdiction(jurisdiction)
        return self._vintage_tables[jurisdiction]

    def budget_additions(self, year: int) -> dict[str, int]:
        """State budgets added to the regional budget in `year` (RGGI: NJ, VA), by id."""
        return {a.id: a.values[year] for a in self.rulebook.budget_additions if year in a.values}

    def budget_adjustments(self, year: int) -> dict[str, int]:
        """Allowances subtracted from the budget in `year` (RGGI bank adjustments), by id."""
        return {a.id: a.values[year] for a in self.rulebook.budget_adjustments if year in a.values}

    def total_budget(self, year: int) -> int:
        """Budget plus state additions: every allowance of that vintage the participating states issue."""
        return self.budget(year) + sum(self.budget_additions(year).values())

    def adjusted_budget(self, year: int) -> int:
        """Total budget less the adjustments for banked allowances."""
        return self.total_budget(year) - sum(self.budget_adjustments(year).values())

    # -- holding limit and holdings --------------------------------------------------------------------------

    def holding_limit(self, year: int) -> int | None:
        """Current-vintage holding limit per entity (allowances) in `year`; None if the program has none."""
        limit = self.rulebook.holding_limit
        if limit is None:
            return None
        basis = self._holding_limit_basis(year, limit)
        head = min(basis, limit.base_quantity)
        tail = max(basis - limit.base_quantity, 0)
        return floor_int(limit.base_share * head + limit.marginal_share * tail)

    def _holding_limit_basis(self, year: int, limit: HoldingLimit) -> int:
        if limit.budget_basis == "own" or self.is_linkage:
            return self.budget(year)
        market = self.market
        if market is not None and market.is_member(self.jurisdictions[0], year):
            combined = market.combined_budget(year)
            if combined is not None:
                return combined
        return self.budget(year)  # not (yet, or any more) linked: its own budget

    @property
    def holding_limit_counted_kinds(self) -> frozenset[AccountKind]:
        limit = self.rulebook.holding_limit
        return frozenset(limit.counted_account_kinds) if limit else frozenset()

    def _may_hold_tables(self) -> list[Holdings]:
        if self.rulebook.holdings is not None:
            return [self.rulebook.holdings]
        if self.is_linkage:
            market = self._linked()
            return [rb.holdings for rb in market.member_rulebooks.values() if rb.holdings is not None]
        return []

    def may_hold(self, account_kind: AccountKind, instrument_kind: InstrumentKind) -> bool:
        """Whether an account of this kind may hold this instrument kind (a linkage: if any member allows it)."""
        return any(account_kind in t.may_hold.get(instrument_kind, ()) for t in self._may_hold_tables())

    @property
    def instrument_kinds(self) -> tuple[InstrumentKind, ...]:
        present = {k for t in self._may_hold_tables() for k in t.may_hold}
        return tuple(k for k in InstrumentKind if k in present)

    # -- reserves and auctions -------------------------------------------------------------------------------

    def reserve_quantity(self, jurisdiction: str, year: int) -> int:
        """Allowances placed in the price-containment reserve (APCR, QC reserve, CCR) from `year`'s budget."""
        return self._placed(jurisdiction, year, "price_containment")

    def set_aside_quantity(self, jurisdiction: str, year: int) -> int:
        """Allowances of `year`'s budget set aside in other reserves (California's voluntary renewable
        electricity reserve, §95870(c)); 0 if none."""
        return self._placed(jurisdiction, year, "set_aside")

    def _placed(self, jurisdiction: str, year: int, kind: str) -> int:
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction)._placed(jurisdiction, year, kind)
        self.budget(year)  # a clear error for a year without a budget
        total = 0
        for reserve in self.rulebook.reserves:
            if reserve.kind != kind:
                continue
            if reserve.quantity is not None and year in reserve.quantity.values:
                total += reserve.quantity.values[year]
            elif reserve.share is not None and year in reserve.share.values:
                basis = (
                    self.total_budget(year) if reserve.share_basis == "total_budget" else self.budget(year)
                )
                total += floor_int(reserve.share.values[year] * basis)
        return total

    def auction_quarters(self, jurisdiction: str, year: int) -> tuple[int, ...]:
        """The quarters of `year` in which `jurisdiction` holds auctions (every quarter from its first one)."""
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction).auction_quarters(jurisdiction, year)
        auction = self.rulebook.auction
        if auction is None or auction.first_auction is None:
            msg = f"program {self.id!r} has no [auction.first_auction] in its rulebook; add the quarter of its first auction"
            raise InputError(msg)
        first_year, first_q = int(auction.first_auction.quarter[:4]), int(auction.first_auction.quarter[5])
        if year < first_year:
            return ()
        return tuple(range(first_q if year == first_year else 1, 5))

    def advance_auction_quantity(self, jurisdiction: str, year: int) -> int:
        """Vintage-`year` allowances set aside from that budget for advance auctions; 0 if none.

        They are sold in the advance auctions of the three years before `year`, a quarter per auction.
        """
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction).advance_auction_quantity(jurisdiction, year)
        budget = self.budget(year)
        auction = self.rulebook.auction
        if auction is None or auction.advance_share is None or year not in auction.advance_share.values:
            return 0
        return floor_int(auction.advance_share.values[year] * budget)

    def allocation_distribution(self, jurisdiction: str) -> AllocationDistribution | None:
        """How `jurisdiction` distributes free allocation over time (`[allocation_distribution]`); None: all of a
        vintage in its year."""
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction).allocation_distribution(jurisdiction)
        return self.rulebook.allocation_distribution

    def consignment_share(self, jurisdiction: str, group: str, year: int) -> Decimal:
        """The least share of `group`'s free allocation of `year` consigned to auction (`[consignment.GROUP]`);
        0 where the rulebook sets none (the group keeps its allowances)."""
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction).consignment_share(jurisdiction, group, year)
        series = self.rulebook.consignment.get(group)
        value = series.get(year) if series is not None else None
        return Decimal(0) if value is None else value

    @property
    def msr(self) -> MarketStabilityReserve | None:
        """The Market Stability Reserve (`[msr]`), if the program has one."""
        return self.rulebook.msr

    def auction_share(self, year: int) -> Decimal | None:
        """Share of the year's budget auctioned (`[auction_share]`), or None where the rulebook gives none."""
        series = self.rulebook.auction_share
        return None if series is None else series.values.get(year)

    def unsold_rules(self, jurisdiction: str) -> UnsoldRules:
        """What becomes of `jurisdiction`'s unsold auction allowances (`[auction.unsold]` of its rulebook)."""
        self._check_jurisdiction(jurisdiction)
        if self.is_linkage:
            return self._member(jurisdiction).unsold_rules(jurisdiction)
        auction = self.rulebook.auction
        if auction is None or auction.unsold is None:
            msg = f"program {self.id!r} has no [auction.unsold] in its rulebook; add the rules for unsold allowances"
            raise InputError(msg)
        return auction.unsold

    def reserve_tier_prices(self, year: int) -> dict[str, Decimal]:
        """Reserve tier, ceiling and trigger prices of `year`, by `<reserve>.<tier>`."""
        out: dict[str, Decimal] = {}
        for reserve in self.rulebook.reserves:
            for tier in reserve.tiers:
                if year in tier.prices.values:
                    out[f"{reserve.id}.{tier.id}"] = tier.prices.values[year]
        return out

    def tier_prices(self, year: int, cpi: float | None = None) -> list[TierPrice]:
        """Reserve tier, price ceiling and trigger prices of `year`, published or projected, in file order.

        A tier appears from its first published year; after its last one only if it has an escalation rule. A
        linkage that reports a member's reserve price (`reserve_price_from`) reports that member's tiers too.
        `cpi` is as for `auction_reserve_price`.
        """
        owner = self.price_program
        if owner is not self:
            return owner.tier_prices(year, cpi)
        rate_cpi = _check_cpi(cpi)
        default_cpi = self.rulebook.auction.reserve_price.default_cpi if self._has_reserve_price else None
        out: list[TierPrice] = []
        for reserve in self.rulebook.reserves:
            for tier in reserve.tiers:
                series = tier.prices
                first, last = series.years[0], series.years[-1]
                if year < first or (year > last and tier.escalation is None):
                    continue
                if year <= last:
                    if year not in series.values:
                        continue  # a gap in a published series is a year without that tier
                    provenance = series.provenance(year)
                    point = PricePoint(
                        year, series.values[year], self.currency, False, provenance.source, provenance.status
                    )
                else:
                    assert tier.escalation is not None
                    point = _escalate(series, tier.escalation, default_cpi, year, rate_cpi, self.currency)
                out.append(TierPrice(reserve.id, reserve.kind, tier.id, tier.role, point))
        return out

    @property
    def _has_reserve_price(self) -> bool:
        auction = self.rulebook.auction
        return auction is not None and auction.reserve_price is not None

    @property
    def price_program(self) -> Program:
        """The program whose reserve price and tiers this one reports: itself, or `reserve_price_from`."""
        auction = self.rulebook.auction
        if self.is_linkage and auction is not None and auction.reserve_price_from is not None:
            return self._program_by_id(auction.reserve_price_from)
        return self

    def member_program(self, jurisdiction: str) -> Program:
        """A linkage's member program for `jurisdiction`; InputError if it has no shipped rulebook."""
        if not self.is_linkage:
            self._check_jurisdiction(jurisdiction)
            return self
        return self._member(jurisdiction)

    def price_years(self) -> range | None:
        """Years the rulebook gives an auction reserve price for; None if it has no reserve price.

        From the first published price to the later of the last published price and the last budget year; the
        years after the last published price are projected by the escalation rule.
        """
        owner = self.price_program
        if not owner._has_reserve_price:
            return None
        published = owner.rulebook.auction.reserve_price.published  # type: ignore[union-attr]
        first = published.years[0]
        last = max(max(owner.budgets), published.years[-1])
        return range(first, last + 1)

    def auction_rules(self, year: int, jurisdiction: str | None = None) -> AuctionRules:
        """What the clearing code needs from the rulebook for an auction held in `year`.

        Lot size, bid currencies and the undersubscribed-price rule are the program's (a linkage's own, for
        a joint auction). Purchase limits are the rulebook's shares of the allowances offered, by bidder type;
        for a linkage they are those of `jurisdiction`'s member (default: the one whose reserve price it reports).
        A bidder type missing from `purchase_limits` has no limit in the rulebook for that year: the caller
        decides what that means, openets does not invent one.
        """
        if isinstance(year, bool) or not isinstance(year, int):
            msg = f"year must be a whole year such as 2016; found {year!r}"
            raise InputError(msg)
        start = self.rulebook.program.start.year
        if not start <= year <= YEAR_MAX:
            msg = f"{self.id} holds auctions from {start}; found {year}. Pick a year in {start}-{YEAR_MAX}"
            raise InputError(msg)
        auction = self.rulebook.auction
        if auction is None or auction.format is None or auction.undersubscribed_price is None:
            missing = (
                "[auction.format]"
                if auction is None or auction.format is None
                else "[auction.undersubscribed_price]"
            )
            msg = f"program {self.id!r} has no {missing} in its rulebook; add it to run auctions"
            raise InputError(msg)
        if self.is_linkage:
            limits_from = self._member(jurisdiction) if jurisdiction is not None else self.price_program
        else:
            self._check_jurisdiction(jurisdiction)
            limits_from = self
        limits = limits_from.rulebook.auction.purchase_limits if limits_from.rulebook.auction else ()
        sources = {
            "lot_size": f"{auction.format.source} [{auction.format.status}]",
            "bid_currencies": f"{auction.format.source} [{auction.format.status}]",
            "undersubscribed_price": (
                f"{auction.undersubscribed_price.source} [{auction.undersubscribed_price.status}]"
            ),
        }
        current = _purchase_limits(limits, year, "current", limits_from.id, "purchase_limits", sources)
        advance = _purchase_limits(
            limits, year, "advance", limits_from.id, "advance_purchase_limits", sources
        )
        return AuctionRules(
            year=year,
            lot_size=auction.format.lot_size,
            bid_currencies=tuple(auction.format.bid_currencies),
            undersubscribed_price=auction.undersubscribed_price.rule,
            purchase_limits=current,
            advance_purchase_limits=advance,
            sources=sources,
        )

    def offset_limit(self, year: int) -> Decimal | None:
        """Share of a compliance obligation that offsets may meet for emissions of `year`; None if unknown."""
        for limit in self.rulebook.offset_limits:
            if limit.from_year <= year and (limit.to_year is None or year <= limit.to_year):
                return limit.share
        return None

    def compliance_period(self, year: int) -> CompliancePeriod | None:
        compliance = self.rulebook.compliance
        if compliance is None:
            return None
        return next((p for p in compliance.periods if p.start_year <= year <= p.end_year), None)

    def auction_reserve_price(self, year: int, cpi: float | None = None) -> PricePoint:
        """The auction reserve (floor) price of `year`: published, or projected by the escalation rule.

        `cpi` (a yearly rate, 0.03 = 3%) replaces the rulebook's default CPI assumption for projected years.
        """
        auction = self.rulebook.auction
        if auction is not None and auction.reserve_price_from is not None and self.is_linkage:
            member = self._program_by_id(auction.reserve_price_from)
            return member.auction_reserve_price(year, cpi)
        if auction is None or auction.reserve_price is None:
            msg = f"program {self.id!r} has no auction reserve price in its rulebook"
            raise InputError(msg)
        rule = auction.reserve_price
        rate_cpi = _check_cpi(cpi)
        first, last = rule.published.years[0], rule.published.years[-1]
        if year < first:
            msg = (
                f"{self.id} has no auction reserve price before {first} (the first is "
                f"{rule.published.values[first]} {self.currency} in {first}); ask for {first} or later"
            )
            raise InputError(msg)
        if year > YEAR_MAX:
            msg = f"{self.id}: reserve prices are projected up to {YEAR_MAX} only; found {year}"
            raise InputError(msg)
        if year <= last:
            provenance = rule.published.provenance(year)
            return PricePoint(
                year, rule.published.values[year], self.currency, False, provenance.source, provenance.status
            )
        return _escalate(rule.published, rule.escalation, rule.default_cpi, year, rate_cpi, self.currency)

    def _program_by_id(self, program_id: str) -> Program:
        market = self._linked()
        rulebook = market.member_rulebooks.get(program_id)
        if rulebook is None:
            msg = f"linkage {self.id!r} names {program_id!r}, which is not among its members"
            raise InputError(msg)
        return Program(rulebook=rulebook)

    # -- export ----------------------------------------------------------------------------------------------

    def to_json(self, cpi: float | None = None) -> dict[str, Any]:
        """One JSON-able object: identity, budgets (year strings), members, derived figures and every parameter."""
        info = self.rulebook.program
        budgets = self.budgets
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "jurisdictions": list(self.jurisdictions),
            "allowance_unit": self.allowance_unit,
            "currency": self.currency,
            "start": info.start.isoformat(),
            "end": info.end.isoformat() if info.end else None,
            "source": info.source,
            "status": info.status,
            "note": info.note,
            "budgets": {str(y): v for y, v in budgets.items()},
        }
        if self.is_linkage:
            out["members"] = [m.model_dump(mode="json") for m in self.members]
            out["budgets_by_jurisdiction"] = {
                j: {str(y): v for y, v in table.items()}
                for j, table in self.budgets_by_jurisdiction().items()
            }
        out["derived"] = self._derived_json(budgets, cpi)
        out["parameters"] = self.rulebook.model_dump(mode="json", exclude={"program", "members"})
        return out

    def _derived_json(self, budgets: dict[int, int], cpi: float | None) -> dict[str, Any]:
        derived: dict[str, Any] = {}
        if self.rulebook.holding_limit is not None:
            derived["holding_limit"] = {str(y): self.holding_limit(y) for y in budgets}
        if self.rulebook.budget_additions or self.rulebook.budget_adjustments:
            derived["total_budget"] = {str(y): self.total_budget(y) for y in budgets}
            derived["adjusted_budget"] = {str(y): self.adjusted_budget(y) for y in budgets}
        by_jurisdiction = (
            self.budgets_by_jurisdiction() if self.is_linkage else {self.jurisdictions[0]: budgets}
        )
        reserve: dict[str, dict[str, int]] = {}
        advance: dict[str, dict[str, int]] = {}
        for jurisdiction in by_jurisdiction:
            try:
                member = self._member(jurisdiction) if self.is_linkage else self
            except InputError:
                continue  # a member without a rulebook contributes nothing to derive
            years = member.budgets
            reserve[jurisdiction] = {str(y): member.reserve_quantity(jurisdiction, y) for y in years}
            advance[jurisdiction] = {str(y): member.advance_auction_quantity(jurisdiction, y) for y in years}
        derived["reserve_quantity"] = reserve
        derived["advance_auction_quantity"] = advance
        prices = self.price_years()
        if prices:
            derived["auction_reserve_price"] = {
                str(y): self.auction_reserve_price(y, cpi).to_json() for y in prices
            }
            derived["cpi"] = cpi
        return derived


def _escalate(
    published: PriceSeries,
    escalation: Escalation,
    default_cpi: CpiAssumption | None,
    year: int,
    rate_cpi: Decimal | None,
    currency: str,
) -> PricePoint:
    """A price after the last published year: each year the previous price x (1 + rate [+ CPI]), to the cent.

    Rounding every year, not once at the end, is how the regulators announce each year's price from the last.
    """
    last = published.years[-1]
    step = escalation.rate
    status: Status = escalation.status
    source = f"computed from {last} by {escalation.source}"
    if escalation.plus_cpi:
        assert default_cpi is not None  # validated together with plus_cpi
        used = rate_cpi if rate_cpi is not None else default_cpi.value
        step += used
        status = "unconfirmed"  # it rests on an assumed inflation rate
        how = "given" if rate_cpi is not None else "the rulebook's default assumption"
        source = f"projected from {last} by {escalation.source} with CPI {used} ({how})"
    price = published.values[last]
    for _ in range(last, year):
        price = round_cent(price * (1 + step))
    return PricePoint(year, price, currency, escalation.plus_cpi, source, status)


# Bidder types of an auction bid file (issue 3): covered and opt-in entities, electrical distribution
# utilities, and everyone else. Rulebooks name buyers in each regulation's own words; this maps them.
BIDDER_TYPES: tuple[str, ...] = ("covered", "utility", "other")
_BIDDER_TYPES_OF_BUYER: dict[str, tuple[str, ...]] = {
    "covered_entity": ("covered",),
    "electrical_distribution_utility": ("utility",),
    # Québec has no category for electricity distributors: they register as emitters.
    "emitter": ("covered", "utility"),
    "participant": ("other",),
    "other": ("other",),
    "any": BIDDER_TYPES,
}


def _purchase_limits(
    limits: tuple[PurchaseLimit, ...],
    year: int,
    auction: Literal["current", "advance"],
    owner: str,
    label: str,
    sources: dict[str, str],
) -> dict[str, Decimal]:
    # A limit written for one buyer or one auction type overrides one written for "any": regulations state a
    # general share and its exceptions. Two equally specific limits that disagree are a rulebook error.
    out: dict[str, Decimal] = {}
    rank: dict[str, int] = {}
    for limit in limits:
        if limit.from_year > year or (limit.to_year is not None and year > limit.to_year):
            continue
        if limit.auction not in (auction, "any"):
            continue
        specificity = 2 * (limit.buyer != "any") + (limit.auction != "any")
        for bidder in _BIDDER_TYPES_OF_BUYER[limit.buyer]:
            if bidder in out and rank[bidder] == specificity and out[bidder] != limit.share:
                msg = (
                    f"{owner}: two {auction}-auction purchase limits for {bidder} bidders in {year} "
                    f"({out[bidder]} and {limit.share}); expected one. "
                    "Fix the years of [[auction.purchase_limits]]"
                )
                raise RulebookError(msg)
            if bidder not in out or specificity > rank[bidder]:
                out[bidder] = limit.share
                rank[bidder] = specificity
                sources[f"{label}.{bidder}"] = f"{limit.source} [{limit.status}]"
    return {b: out[b] for b in BIDDER_TYPES if b in out}


def _check_cpi(cpi: float | None) -> Decimal | None:
    if cpi is None:
        return None
    if isinstance(cpi, bool) or not isinstance(cpi, (int, float, Decimal)) or not math.isfinite(float(cpi)):
        msg = f"cpi must be a yearly rate such as 0.03 (3%); found {cpi!r}"
        raise InputError(msg)
    value = _to_decimal(float(cpi)) if not isinstance(cpi, Decimal) else cpi
    if not Decimal("-0.05") <= value <= 1:
        msg = f"cpi {cpi!r} is outside -0.05..1 (a yearly rate: 0.03 means 3%, not 3); pass e.g. --cpi 0.03"
        raise InputError(msg)
    return value
