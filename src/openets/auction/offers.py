"""The offer schedule: what each jurisdiction puts up at each quarterly auction, and what becomes of what goes
unsold. A pure state machine over the auction holding accounts; every rule comes from the rulebook.

Each quarter, per jurisdiction (17 CCR §95910(c); Q-2 r.46.1 s.54):
- current auction: an equal share of the year's state-owned current allowances (the budget less reserve, set-aside,
  advance share and free allocation, plus advance allowances of that vintage that went unsold), the consigned
  allowances (the consignors' choice: a `ConsignmentSource`), consigned allowances unsold at the previous auction,
  and previously unsold state-owned allowances once `redesignate_after` consecutive current auctions have settled
  above the floor, oldest first, at most `redesignation_cap` of the allowances newly offered at this auction;
- advance auction: an equal share of the advance share of the budget three years ahead;
- before the auction, state-owned allowances unsold for more than `to_reserve_after_months` move to the reserve.

Use: `offer(year, quarter)`, clear the auctions, then `settle(Outcome)`; quarters go in order, none skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from openets.auction.clearing import Tranche
from openets.auction.supply import advance_offer, budget_split, per_auction
from openets.data import free_allocation, table
from openets.errors import InputError
from openets.rules import Program

#: (jurisdiction, auction type, category, vintage): the key of an offer line and of unsold quantities.
Key = tuple[str, str, str, int]
#: Consigned allowances newly offered by `jurisdiction` at the current auction of `year`Q`quarter`, by vintage.
ConsignmentSource = Callable[[str, int, int], Mapping[int, int]]

#: Sale order when an auction is undersubscribed (§95911(f)(1)): consigned, then redesignated state-owned, then
#: newly available state-owned allowances; jurisdictions share each step in proportion to their quantities.
SALE_ORDER = {"consigned": 0, "redesignated": 1, "new": 2}


@dataclass(frozen=True, slots=True)
class Offer:
    """Allowances of one vintage and category that one jurisdiction offers at one auction."""

    jurisdiction: str
    auction_type: str  # "current" or "advance"
    category: str  # "state_owned" or "consigned"
    vintage: int
    new: int  # offered for the first time
    redesignated: int = 0  # offered again after going unsold

    @property
    def key(self) -> Key:
        return (self.jurisdiction, self.auction_type, self.category, self.vintage)

    @property
    def available(self) -> int:
        return self.new + self.redesignated


@dataclass(frozen=True, slots=True)
class ReserveTransfer:
    """State-owned allowances that stayed unsold too long and moved to the reserve before an auction."""

    quarter: str
    jurisdiction: str
    vintage: int
    quantity: int
    unsold_since: str


@dataclass(frozen=True, slots=True)
class QuarterOffers:
    """Everything offered in one quarter, and what moved to the reserve before its auctions."""

    quarter: str
    offers: tuple[Offer, ...]
    to_reserve: tuple[ReserveTransfer, ...] = ()

    def lines(self, auction_type: str, jurisdiction: str | None = None) -> list[Offer]:
        return [o for o in self.offers if o.auction_type == auction_type and jurisdiction in (None, o.jurisdiction)]

    def total(self, auction_type: str, jurisdiction: str | None = None) -> int:
        return sum(o.available for o in self.lines(auction_type, jurisdiction))

    def tranches(self, auction_type: str) -> list[Tranche]:
        """The supply of one auction as clearing tranches in the sale order, named JURISDICTION:CATEGORY:VINTAGE
        (with `:redesignated` for allowances offered again)."""
        out: list[Tranche] = []
        for o in self.lines(auction_type):
            name = f"{o.jurisdiction}:{o.category}:{o.vintage}"
            if o.category == "consigned":
                out.append(Tranche(name, o.available, SALE_ORDER["consigned"]))
                continue
            if o.redesignated:
                out.append(Tranche(f"{name}:redesignated", o.redesignated, SALE_ORDER["redesignated"]))
            if o.new:
                out.append(Tranche(name, o.new, SALE_ORDER["new"]))
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one quarter's auctions left unsold (by offer key), and, per jurisdiction, whether the current auction
    it sold in settled above its floor."""

    unsold: Mapping[Key, int] = field(default_factory=dict)
    above_floor: Mapping[str, bool] = field(default_factory=dict)
    #: A recorded outcome may leave more unsold than the rules offered (where the regulator offered more than the
    #: rules give, see docs/auction_replay_2012_2018.md): the record wins, and the excess joins the unsold.
    recorded: bool = False


@dataclass(slots=True)
class _Lot:
    """Unsold state-owned allowances of one vintage, waiting in the auction holding account."""

    since: int  # quarter index at which they went unsold
    vintage: int
    quantity: int


def quarter_index(year: int, quarter: int) -> int:
    return year * 4 + quarter - 1


def quarter_name(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


class OfferSchedule:
    """The auction holding accounts of a program's jurisdictions, quarter by quarter."""

    def __init__(self, program: Program, consignment: ConsignmentSource | None = None) -> None:
        self.program = program
        self.jurisdictions = tuple(j for j in program.jurisdictions if program.vintages(j))
        if not self.jurisdictions:
            msg = f"program {program.id!r} has no jurisdiction with budgets; nothing to offer"
            raise InputError(msg)
        self._consignment = consignment or consignment_source(program)
        firsts = [self._first_quarter(j) for j in self.jurisdictions]
        self._next = min(firsts)
        self._pending: QuarterOffers | None = None
        self._annual: dict[tuple[str, int], int] = {}
        self._advance_unsold: dict[tuple[str, int], int] = {}
        self._unsold: dict[str, list[_Lot]] = {j: [] for j in self.jurisdictions}
        self._taken: dict[str, list[_Lot]] = {j: [] for j in self.jurisdictions}  # redesignated at the pending auction
        self._consigned_back: dict[str, dict[int, int]] = {j: {} for j in self.jurisdictions}
        self._above: dict[str, list[bool]] = {j: [] for j in self.jurisdictions}
        self.transfers: list[ReserveTransfer] = []

    # -- the quarter's offers ---------------------------------------------------------------------------------

    @property
    def next_quarter(self) -> str:
        return quarter_name(self._next)

    @property
    def next_index(self) -> int:
        """The quarter index (year * 4 + quarter - 1) that `offer` expects next."""
        return self._next

    def offer(self, year: int, quarter: int) -> QuarterOffers:
        """The offers of `year`Q`quarter`: call in order of quarters, with `settle` after each."""
        index = quarter_index(year, quarter)
        if self._pending is not None:
            msg = f"{self._pending.quarter} is not settled yet; call settle() with its outcome before offering {year}Q{quarter}"
            raise InputError(msg)
        if index != self._next:
            msg = f"offers go quarter by quarter from the first auction: the next quarter is {self.next_quarter}, not {year}Q{quarter}"
            raise InputError(msg)
        offers: list[Offer] = []
        moved: list[ReserveTransfer] = []
        for j in self.jurisdictions:
            if quarter not in self.program.auction_quarters(j, year):
                continue
            moved += self._to_reserve(j, index)
            offers += self._current(j, year, quarter, index)
            offers += self._advance(j, year, quarter)
        self.transfers += moved
        self._pending = QuarterOffers(quarter_name(index), tuple(o for o in offers if o.available), tuple(moved))
        return self._pending

    def _first_quarter(self, jurisdiction: str) -> int:
        for year in range(1990, 2101):
            quarters = self.program.auction_quarters(jurisdiction, year)
            if quarters:
                return quarter_index(year, quarters[0])
        msg = f"{jurisdiction} holds no auction in its rulebook"
        raise InputError(msg)

    def state_owned_current(self, jurisdiction: str, year: int) -> int:
        """The year's state-owned current allowances: the budget's current-auction share plus the advance
        allowances of that vintage that went unsold (§95910(c)(2)(C)); 0 for a year without a budget. Fixed at the
        year's first current auction; before it, the figure as things stand."""
        key = (jurisdiction, year)
        if key in self._annual:
            return self._annual[key]
        if year not in self.program.vintages(jurisdiction):
            return 0
        split = budget_split(self.program, jurisdiction, year)
        return split["current_auction"] + self._advance_unsold.get(key, 0)

    def _current(self, j: str, year: int, quarter: int, index: int) -> list[Offer]:
        quarters = self.program.auction_quarters(j, year)
        self._annual[(j, year)] = self.state_owned_current(j, year)  # fixed from the year's first auction on
        state_new = per_auction(self._annual[(j, year)], len(quarters))[quarters.index(quarter)]
        consigned_new = {v: q for v, q in self._consignment(j, year, quarter).items() if q}
        if any(q < 0 for q in consigned_new.values()):
            msg = f"{j} {year}Q{quarter}: consigned quantities must not be negative, got {consigned_new}"
            raise InputError(msg)
        lines: dict[tuple[str, int], list[int]] = {}
        if state_new:
            lines[("state_owned", year)] = [state_new, 0]
        for vintage, q in consigned_new.items():
            lines.setdefault(("consigned", vintage), [0, 0])[0] += q
        for vintage, q in self._consigned_back[j].items():
            lines.setdefault(("consigned", vintage), [0, 0])[1] += q
        self._consigned_back[j] = {}
        rules = self.program.unsold_rules(j)
        recent = self._above[j][-rules.redesignate_after :]
        if len(recent) == rules.redesignate_after and all(recent):
            base = Decimal(state_new + sum(consigned_new.values()))
            room = int((rules.redesignation_cap * base).to_integral_value(ROUND_FLOOR))
            pool = self._unsold[j]
            while room and pool:
                lot = pool[0]
                take = min(room, lot.quantity)
                self._taken[j].append(_Lot(lot.since, lot.vintage, take))
                lines.setdefault(("state_owned", lot.vintage), [0, 0])[1] += take
                lot.quantity -= take
                room -= take
                if lot.quantity == 0:
                    pool.pop(0)
        return [Offer(j, "current", cat, v, new, red) for (cat, v), (new, red) in sorted(lines.items(), key=_line_order)]

    def _advance(self, j: str, year: int, quarter: int) -> list[Offer]:
        vintage = year + 3
        if vintage not in self.program.vintages(j) or not self.program.advance_auction_quantity(j, vintage):
            return []
        vintage, quantity = advance_offer(self.program, j, year, quarter)
        return [Offer(j, "advance", "state_owned", vintage, quantity)]

    def _to_reserve(self, j: str, index: int) -> list[ReserveTransfer]:
        months = self.program.unsold_rules(j).to_reserve_after_months
        if months is None:
            return []
        moved, kept = [], []
        for lot in self._unsold[j]:
            if 3 * (index - lot.since) > months:
                moved.append(ReserveTransfer(quarter_name(index), j, lot.vintage, lot.quantity, quarter_name(lot.since)))
            else:
                kept.append(lot)
        self._unsold[j] = kept
        return moved

    # -- what went unsold -------------------------------------------------------------------------------------

    def settle(self, outcome: Outcome) -> None:
        """Record what the pending quarter's auctions left unsold and whether they settled above the floor."""
        if self._pending is None:
            msg = f"nothing to settle: call offer() for {self.next_quarter} first"
            raise InputError(msg)
        pending = self._pending
        offered = {o.key: o for o in pending.offers}
        for key, quantity in outcome.unsold.items():
            line = offered.get(key)
            too_many = line is not None and quantity > line.available and not outcome.recorded
            if quantity < 0 or (line is None and quantity and not outcome.recorded) or too_many:
                most = 0 if line is None else line.available
                msg = f"{pending.quarter}: unsold {quantity:,} for {':'.join(map(str, key))}, but {most:,} were offered; unsold must be between 0 and the offer"
                raise InputError(msg)
        held = {j for j in self.jurisdictions if pending.lines("current", j) or self._held_current(j, pending.quarter)}
        for j in held:
            if j not in outcome.above_floor:
                msg = f"{pending.quarter}: say whether {j}'s current auction settled above its floor (Outcome.above_floor)"
                raise InputError(msg)
        index = self._next
        for key, quantity in sorted(outcome.unsold.items()):
            if not quantity or key[0] not in self._unsold:
                continue
            j, auction_type, category, vintage = key
            if auction_type == "advance":
                self._advance_unsold[(j, vintage)] = self._advance_unsold.get((j, vintage), 0) + quantity
            elif category == "consigned":
                self._consigned_back[j][vintage] = quantity
            else:
                self._return_unsold(j, vintage, quantity, offered[key].new if key in offered else 0, index)
        for j in held:
            self._above[j].append(bool(outcome.above_floor[j]))
        self._taken = {j: [] for j in self.jurisdictions}
        self._pending = None
        self._next = index + 1

    def _held_current(self, j: str, quarter: str) -> bool:
        year, q = int(quarter[:4]), int(quarter[5])
        return q in self.program.auction_quarters(j, year)

    def _return_unsold(self, j: str, vintage: int, quantity: int, new: int, index: int) -> None:
        """Redesignated allowances sell before new ones (§95911(f)(1)), so what went unsold is new allowances
        first; any beyond go back to the pool with the date they first went unsold."""
        fresh = min(quantity, new)
        back = quantity - fresh
        for lot in reversed([t for t in self._taken[j] if t.vintage == vintage]):
            if back == 0:
                break
            give = min(back, lot.quantity)
            self._unsold[j].append(_Lot(lot.since, vintage, give))
            back -= give
        fresh += back  # a recorded outcome's excess over the rules' offer: unsold from this auction on
        if fresh:
            self._unsold[j].append(_Lot(index, vintage, fresh))
        self._unsold[j].sort(key=lambda lot: (lot.since, lot.vintage))

    @property
    def advance_unsold(self) -> dict[tuple[str, int], int]:
        """Advance allowances that went unsold, by (jurisdiction, vintage): they join the current auctions of
        their vintage year."""
        return dict(self._advance_unsold)

    def unsold(self, jurisdiction: str) -> dict[int, int]:
        """State-owned allowances unsold and waiting in `jurisdiction`'s auction holding account, by vintage."""
        out: dict[int, int] = {}
        for lot in self._unsold[jurisdiction]:
            out[lot.vintage] = out.get(lot.vintage, 0) + lot.quantity
        return out


def _line_order(item: tuple[tuple[str, int], list[int]]) -> tuple[int, int]:
    (category, vintage), _ = item
    return (0 if category == "state_owned" else 1, vintage)


# -- the shipped record ---------------------------------------------------------------------------------------


def shipped_consignment(jurisdiction: str, year: int, quarter: int) -> dict[int, int]:
    """Consigned allowances newly offered at a current auction: the recorded quantity where the shipped auction
    history has it, else an equal share of what the year's auction notice announced and the record has not yet
    placed. Jurisdictions that never consign (Québec) offer none."""
    recorded = [
        r for r in table("wci_auction_history_2012_2018.csv")
        if r["jurisdiction"] == jurisdiction and r["auction_type"] == "current" and r["category"] == "consigned"
    ]
    notices = [r for r in table("wci_consignment_annual_2013_2018.csv") if r["jurisdiction"] == jurisdiction]
    if not recorded and not notices:
        return {}
    name = f"{year}Q{quarter}"
    here = [r for r in recorded if r["quarter"] == name]
    if here:
        return {int(r["vintage"]): int(r["newly_available_allowances"]) for r in here}
    notice = [r for r in notices if int(r["year"]) == year]
    if not notice:
        years = sorted(int(r["year"]) for r in notices)
        msg = (
            f"no consignment figures for {jurisdiction} {name}: the shipped record and auction notices cover "
            f"{years[0]}-{years[-1]}; give the consigned quantities (a ConsignmentSource) or the supply itself"
        )
        raise InputError(msg)
    vintage, announced = int(notice[0]["vintage"]), int(notice[0]["consigned_allowances"])
    placed = sum(int(r["newly_available_allowances"]) for r in recorded if int(r["vintage"]) == vintage)
    quarters = [q for q in range(quarter, 5)]
    return {vintage: per_auction(max(announced - placed, 0), len(quarters))[0]}


def consignment_source(program: Program) -> Callable[[str, int, int], Mapping[int, int]]:
    """Consigned allowances per auction: the record and the auction notices where they exist, else the least
    consignment the rulebook requires of the shipped allocation, spread evenly over the year's auctions."""

    def source(jurisdiction: str, year: int, quarter: int) -> Mapping[int, int]:
        try:
            return shipped_consignment(jurisdiction, year, quarter)
        except InputError:
            pass
        if year not in program.vintages(jurisdiction):
            return {}
        total = 0
        for group, quantity in free_allocation(jurisdiction, year).items():
            share = program.consignment_share(jurisdiction, group, year)
            total += int((share * quantity).to_integral_value(ROUND_FLOOR))
        quarters = program.auction_quarters(jurisdiction, year)
        return {year: per_auction(total, len(quarters))[quarters.index(quarter)]} if total else {}

    return source


def recorded_outcome(quarter: QuarterOffers) -> Outcome:
    """The outcome of a quarter's auctions as the shipped record has it: unsold per line, and above-floor from the
    settlements. Where the record left more unsold than the rules offered, the excess joins the unsold."""
    rows = [r for r in table("wci_auction_history_2012_2018.csv") if r["quarter"] == quarter.quarter]
    prices = [r for r in table("wci_auction_settlements_2012_2018.csv") if r["quarter"] == quarter.quarter]
    if not rows or not prices:
        msg = f"the shipped record has no auction results for {quarter.quarter} (it covers 2012Q4-2018Q3)"
        raise InputError(msg)
    unsold: dict[Key, int] = {}
    for r in rows:
        key = (r["jurisdiction"], r["auction_type"], r["category"], int(r["vintage"]))
        unsold[key] = unsold.get(key, 0) + int(r["unsold_allowances"])
    above: dict[str, bool] = {}
    for j in {o.jurisdiction for o in quarter.offers}:
        market = next((p for p in prices if _market_has(p["market"], j)), None)
        if market is not None:
            above[j] = Decimal(market["current_settlement"]) > Decimal(market["reserve_price"])
    return Outcome(unsold, above, recorded=True)


def _market_has(market: str, jurisdiction: str) -> bool:
    return {"CA only": {"CA"}, "QC only": {"QC"}, "CA-QC joint": {"CA", "QC"}}.get(market, set()).__contains__(jurisdiction)


def replay_record(program: Program, consignment: ConsignmentSource | None = None) -> Iterator[tuple[QuarterOffers, Outcome]]:
    """The schedule run through the recorded quarters 2012Q4-2018Q3, each settled with its recorded outcome."""
    schedule = OfferSchedule(program, consignment)
    while schedule.next_index <= quarter_index(2018, 3):
        year, q = divmod(schedule.next_index, 4)
        offers = schedule.offer(year, q + 1)
        outcome = recorded_outcome(offers)
        schedule.settle(outcome)
        yield offers, outcome


def scheduled_offers(program: Program, year: int, quarter: int) -> QuarterOffers:
    """The offers of `year`Q`quarter` by the rules, with every earlier quarter settled as the record has it
    (2012Q4-2018Q3) and, after the record, assumed sold out above the floor (see `RECORD_ENDS`)."""
    schedule = OfferSchedule(program)
    target = quarter_index(year, quarter)
    if target < schedule.next_index:
        msg = f"{program.id} holds no auction before {schedule.next_quarter}; {year}Q{quarter} is earlier"
        raise InputError(msg)
    while True:
        y, q = divmod(schedule.next_index, 4)
        offers = schedule.offer(y, q + 1)
        if schedule.next_index == target:
            return offers
        recorded = schedule.next_index <= quarter_index(*RECORD_ENDS)
        schedule.settle(recorded_outcome(offers) if recorded else sold_out(schedule))


#: The last quarter of the shipped auction record.
RECORD_ENDS = (2018, 3)


def sold_out(schedule: OfferSchedule) -> Outcome:
    """An outcome in which every offer sells and every auction of the schedule's jurisdictions settles above its
    floor."""
    return Outcome({}, dict.fromkeys(schedule.jurisdictions, True))
