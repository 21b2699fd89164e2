"""Paris Agreement mechanics: entry into force (Article 21: 55 Parties, 55% of emissions) and withdrawal (Article 28).

Article 21(1): the Agreement enters into force on the thirtieth day after the date on which at least 55 Parties to the
Convention accounting in total for at least an estimated 55 per cent of total global greenhouse gas emissions have
deposited their instruments of ratification, acceptance, approval or accession. 21(2): the emissions are those
communicated on or before adoption (12 Dec 2015), listed by the UNFCCC secretariat with each Party's per cent of the
total. 21(3): for a Party depositing after the conditions were met, the Agreement enters into force on the thirtieth
day after its deposit. 21(4): for paragraph 1, an instrument deposited by a regional economic integration
organization (the European Union) is not counted as additional to those of its member States; here it adds neither a
Party nor a share (the EU's 12.10% is the sum of its members' shares, which count as each member deposits).
Article 28(1): a Party may give notice of withdrawal at any time after three years from the date the Agreement
entered into force for it; 28(2): the withdrawal takes effect one year after the Depositary receives the notice, or
on a later date the notice specifies.

The rule functions take plain data (`Deposit` records, dates) and return dataclasses; `record_deposits` loads the
shipped record (`paris_ratification_record.csv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from openets.actions.lookup import find_code
from openets.data import table
from openets.errors import InputError

MIN_PARTIES = 55  # Art. 21(1)
MIN_SHARE_PERCENT = Decimal("55")  # Art. 21(1), per cent of total global GHG emissions (Art. 21(2) list)
DAYS_TO_ENTRY_INTO_FORCE = 30  # Art. 21(1) and 21(3): "on the thirtieth day after"
YEARS_BEFORE_NOTICE = 3  # Art. 28(1)
YEARS_NOTICE_TO_EFFECT = 1  # Art. 28(2)
TABLE = "paris_ratification_record.csv"
SOURCE = (
    "Paris Agreement arts. 21 and 28; record: UN Treaty Collection XXVII-7-d and the UNFCCC secretariat's Art. 21 "
    "list via openclimatedata (deposits to 9 Nov 2018), US events from UN statements (paris_ratification_record.csv)"
)


@dataclass(frozen=True)
class Deposit:
    """An instrument of ratification, acceptance, approval or accession, as the Depositary received it."""

    party: str  # party code (ISO 3166-1 alpha-3; EUU for the European Union)
    deposited_on: date
    share_percent: Decimal | float | None = None  # Art. 21 share, per cent; None: no figure in the list
    is_reio: bool = False  # a regional economic integration organization (Art. 21(4))
    withdrawal_notice_on: date | None = None  # notice of withdrawal received for this membership, if any
    name: str = ""


@dataclass(frozen=True)
class Tally:
    """Instruments counted for Article 21(1) on a date: distinct Parties, and their total share of emissions."""

    on: date
    party_count: int
    share_percent: Decimal
    parties: tuple[str, ...] = field(repr=False)
    not_counted: tuple[str, ...] = ()  # instruments of regional economic integration organizations (Art. 21(4))

    def to_json(self, *, with_parties: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "on": self.on.isoformat(),
            "party_count": self.party_count,
            "share_percent": float(self.share_percent),
        }
        if with_parties:
            out["parties"] = list(self.parties)
        out["not_counted"] = list(self.not_counted)
        return out


@dataclass(frozen=True)
class EntryIntoForce:
    """When the Article 21(1) conditions were first met on a record of deposits, and the entry-into-force date."""

    conditions_met_on: date | None  # None: not met on the record
    entry_into_force_date: date | None
    at_threshold: Tally | None  # the tally on conditions_met_on
    before_threshold: Tally | None  # the tally on the last deposit date before it (None when not met)
    final: Tally  # the tally over the whole record (Art. 21(1) counting: withdrawals are not subtracted)
    min_parties: int = MIN_PARTIES
    min_share_percent: Decimal = MIN_SHARE_PERCENT

    def to_json(self) -> dict[str, Any]:
        at = self.at_threshold
        return {
            "entry_into_force_date": self.entry_into_force_date.isoformat() if self.entry_into_force_date else None,
            "conditions_met_on": self.conditions_met_on.isoformat() if self.conditions_met_on else None,
            "party_count": at.party_count if at else None,
            "share_percent": float(at.share_percent) if at else None,
            "min_parties": self.min_parties,
            "min_share_percent": float(self.min_share_percent),
            "at_threshold": at.to_json() if at else None,
            "before_threshold": self.before_threshold.to_json(with_parties=False) if self.before_threshold else None,
            "final": self.final.to_json(with_parties=False),
            "source": SOURCE,
        }


@dataclass(frozen=True)
class Withdrawal:
    """Article 28 dates for one membership of a Party."""

    party: str
    in_force_for_party: date
    earliest_notice_date: date
    notice_date: date
    effective_date: date
    recorded_notice_date: date | None = None  # the notice the shipped record holds for this membership, if any
    recorded_effective_date: date | None = None  # when that recorded notice takes (or took) effect

    def to_json(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "in_force_for_party": self.in_force_for_party.isoformat(),
            "earliest_notice_date": self.earliest_notice_date.isoformat(),
            "notice_date": self.notice_date.isoformat(),
            "effective_date": self.effective_date.isoformat(),
            "recorded_notice_date": self.recorded_notice_date.isoformat() if self.recorded_notice_date else None,
            "recorded_effective_date": (
                self.recorded_effective_date.isoformat() if self.recorded_effective_date else None
            ),
            "source": SOURCE,
        }


# --- rules ------------------------------------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 1 March when the target year has none.

    A period of years from 29 Feb runs out at the end of 28 Feb, so the day after it is 1 March.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def _share(deposit: Deposit) -> Decimal:
    if deposit.share_percent is None:
        return Decimal(0)
    # str() first: Decimal(0.1) would carry the float's binary error into the "at least 55" comparison.
    share = deposit.share_percent if isinstance(deposit.share_percent, Decimal) else Decimal(str(deposit.share_percent))
    if not Decimal(0) <= share <= Decimal(100):
        msg = f"share of {deposit.party} is {share}%; an Article 21 share is a per cent of the world total, 0 to 100"
        raise InputError(msg)
    return share


def tally(deposits: Iterable[Deposit], on: date) -> Tally:
    """Parties counted for Article 21(1) with their instruments deposited on or before `on`.

    A Party counts once whatever number of instruments it deposited; a Party without a share in the list counts as
    a Party with 0%; instruments of regional economic integration organizations count for neither (Art. 21(4)).
    """
    counted: dict[str, Decimal] = {}
    reio: set[str] = set()
    for d in deposits:
        if not d.party:
            msg = f"a deposit of {d.deposited_on} has no party code; give each deposit its party code"
            raise InputError(msg)
        if d.deposited_on > on:
            continue
        if d.is_reio:
            reio.add(d.party)
        else:
            counted[d.party] = _share(d)
    return Tally(
        on=on,
        party_count=len(counted),
        share_percent=sum(counted.values(), Decimal(0)),
        parties=tuple(sorted(counted)),
        not_counted=tuple(sorted(reio)),
    )


def entry_into_force(
    deposits: Sequence[Deposit],
    *,
    min_parties: int = MIN_PARTIES,
    min_share_percent: Decimal | float = MIN_SHARE_PERCENT,
) -> EntryIntoForce:
    """The first date on which at least `min_parties` Parties with at least `min_share_percent` of emissions had
    deposited (Art. 21(1)), and the thirtieth day after it. Deposits may come in any order."""
    if not deposits:
        msg = "no deposits given; pass the instruments deposited (party, date, Article 21 share)"
        raise InputError(msg)
    threshold = min_share_percent if isinstance(min_share_percent, Decimal) else Decimal(str(min_share_percent))
    days = sorted({d.deposited_on for d in deposits})
    before: Tally | None = None
    for day in days:
        now = tally(deposits, day)
        if now.party_count >= min_parties and now.share_percent >= threshold:
            return EntryIntoForce(
                conditions_met_on=day,
                entry_into_force_date=day + timedelta(days=DAYS_TO_ENTRY_INTO_FORCE),
                at_threshold=now,
                before_threshold=before,
                final=tally(deposits, days[-1]),
                min_parties=min_parties,
                min_share_percent=threshold,
            )
        before = now
    return EntryIntoForce(None, None, None, None, tally(deposits, days[-1]), min_parties, threshold)


def in_force_for_party(deposited_on: date, conditions_met_on: date) -> date:
    """When the Agreement enters into force for a Party: the Agreement's own date if the Party deposited on or before
    the day the conditions were met (Art. 21(1)), else the thirtieth day after its deposit (Art. 21(3))."""
    return max(deposited_on, conditions_met_on) + timedelta(days=DAYS_TO_ENTRY_INTO_FORCE)


def withdrawal(
    in_force_on: date,
    notice_on: date | None = None,
    *,
    specified_effective_on: date | None = None,
    party: str = "",
) -> Withdrawal:
    """Article 28 dates for a Party for which the Agreement entered into force on `in_force_on`.

    Args:
        in_force_on: date the Agreement entered into force for the Party.
        notice_on: date the Depositary received the notice; default: the earliest allowed.
        specified_effective_on: a later date of effect specified in the notice (Art. 28(2)), if any.
        party: party code, for the result and messages.
    """
    earliest = add_years(in_force_on, YEARS_BEFORE_NOTICE)
    notice = earliest if notice_on is None else notice_on
    who = party or "the Party"
    if notice < earliest:
        msg = (
            f"notice {notice.isoformat()} for {who} is too early: under Art. 28(1) notice may be given only after "
            f"three years from {in_force_on.isoformat()}, when the Agreement entered into force for {who}; "
            f"give --notice {earliest.isoformat()} or later"
        )
        raise InputError(msg)
    effective = add_years(notice, YEARS_NOTICE_TO_EFFECT)
    if specified_effective_on is not None:
        if specified_effective_on < effective:
            msg = (
                f"a date of effect {specified_effective_on.isoformat()} is earlier than one year after the notice "
                f"({effective.isoformat()}); Art. 28(2) allows only a later date: give {effective.isoformat()} or later"
            )
            raise InputError(msg)
        effective = specified_effective_on
    return Withdrawal(party, in_force_on, earliest, notice, effective)


@dataclass(frozen=True)
class Membership:
    """One spell of a Party in the Agreement: from its deposit to the effect of its withdrawal, if any."""

    party: str
    deposited_on: date
    in_force_on: date
    withdrawal_notice_on: date | None
    withdrawal_effective_on: date | None


def memberships(deposits: Sequence[Deposit], party: str, conditions_met_on: date) -> list[Membership]:
    """The spells of `party` in the Agreement, in order, from its deposits and the withdrawal notices recorded."""
    spells = []
    for d in sorted((d for d in deposits if d.party == party), key=lambda d: d.deposited_on):
        start = in_force_for_party(d.deposited_on, conditions_met_on)
        end = None
        if d.withdrawal_notice_on is not None:
            end = withdrawal(start, d.withdrawal_notice_on, party=party).effective_date
        spells.append(Membership(party, d.deposited_on, start, d.withdrawal_notice_on, end))
    return spells


def party_withdrawal(deposits: Sequence[Deposit], party: str, notice_on: date | None = None) -> Withdrawal:
    """Article 28 dates for `party` on a record of deposits: the membership in force on the notice date (default:
    the party's latest membership and its earliest notice)."""
    eif = entry_into_force(deposits)
    if eif.conditions_met_on is None:
        msg = "the Agreement has not entered into force on the given record, so no Party can withdraw from it"
        raise InputError(msg)
    spells = memberships(deposits, party, eif.conditions_met_on)
    if not spells:
        msg = (
            f"{party} has deposited no instrument in the record, and only a Party can give notice of withdrawal; "
            f"name a party that has deposited one"
        )
        raise InputError(msg)
    if notice_on is None:
        spell = spells[-1]
    else:
        earlier = [s for s in spells if s.deposited_on <= notice_on]
        if not earlier:
            msg = (
                f"notice {notice_on.isoformat()} for {party} is before its first deposit "
                f"({spells[0].deposited_on.isoformat()}); give a notice date after the Agreement entered into force "
                f"for it ({spells[0].in_force_on.isoformat()})"
            )
            raise InputError(msg)
        spell = earlier[-1]
        notice, effect = spell.withdrawal_notice_on, spell.withdrawal_effective_on
        if notice is not None and effect is not None and notice < notice_on:
            later = [s for s in spells if s.deposited_on > notice_on]
            rejoined = f"; it deposited again on {later[0].deposited_on.isoformat()}" if later else ""
            if notice_on >= effect:
                msg = (
                    f"{party} was not a Party on {notice_on.isoformat()}: its withdrawal (notice of "
                    f"{notice.isoformat()}) took effect on {effect.isoformat()}{rejoined}; give a notice date while "
                    f"it was a Party"
                )
            else:
                # Art. 28: a notice already received runs to its date of effect; a second one changes nothing.
                msg = (
                    f"{party} had already given notice of withdrawal on {notice.isoformat()}, pending on "
                    f"{notice_on.isoformat()} and taking effect on {effect.isoformat()}: a second notice during it "
                    f"has no effect; give a notice date on or before {notice.isoformat()}"
                    + (f", or after it deposited again ({later[0].deposited_on.isoformat()})" if later else "")
                )
            raise InputError(msg)
    result = withdrawal(spell.in_force_on, notice_on, party=party)
    return Withdrawal(
        party, result.in_force_for_party, result.earliest_notice_date, result.notice_date, result.effective_date,
        spell.withdrawal_notice_on, spell.withdrawal_effective_on,
    )


# --- the shipped record -----------------------------------------------------------------------------------


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def record_parties() -> dict[str, str]:
    """Every party of the shipped record (the Article 21 list), code -> name."""
    return {r["party_code"]: r["party_name"] for r in table(TABLE)}


@cache
def record_deposits() -> tuple[Deposit, ...]:
    """The instruments of the shipped record as `Deposit`s (parties that deposited none are left out)."""
    rows = table(TABLE)
    reios = {r["reio_code"] for r in rows if r["reio_code"]}
    out = []
    for r in rows:
        deposited = _date(r["deposit_date"])
        if deposited is None:
            continue
        out.append(
            Deposit(
                party=r["party_code"],
                deposited_on=deposited,
                share_percent=Decimal(r["art21_share_percent"]) if r["art21_share_percent"] else None,
                is_reio=r["party_code"] in reios,
                withdrawal_notice_on=_date(r["withdrawal_notice_date"]),
                name=r["party_name"],
            )
        )
    return tuple(out)


def resolve_party(name_or_code: str) -> str:
    """The record's party code of a code or name, any case; an unknown party lists close matches."""
    parties = record_parties()
    code, hint = find_code(name_or_code, parties)
    if code is not None:
        return code
    msg = (
        f"unknown party {name_or_code!r} in {TABLE}: give an ISO 3166-1 alpha-3 code such as USA (EUU for the "
        f"European Union) or the party's UN name" + hint
    )
    raise InputError(msg)
