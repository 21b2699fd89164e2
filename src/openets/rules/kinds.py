"""The vocabulary shared by rulebooks and the registry: account kinds and instrument kinds."""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    """Kinds of registry account (after CITSS and COATS account types)."""

    ISSUANCE = "issuance"  # the only kind whose balance may go below zero: minus what was issued
    ALLOCATION_HOLDING = "allocation_holding"  # jurisdiction's allowances awaiting free allocation
    AUCTION_HOLDING = "auction_holding"  # allowances awaiting sale at auction (state-owned and consigned)
    RESERVE = "reserve"  # price/cost containment reserves (APCR, Québec reserve, CCR, ECR)
    GENERAL_HOLDING = "general_holding"  # an entity's tradable holdings
    COMPLIANCE = "compliance"  # instruments an entity has set aside for surrender
    LIMITED_USE = "limited_use"  # utility allowances that may only be consigned to auction
    EXCHANGE_CLEARING = "exchange_clearing"  # held by an exchange clearing house
    RETIREMENT = "retirement"  # surrendered or voluntarily retired instruments (terminal)
    CANCELLATION = "cancellation"  # cancelled or invalidated instruments (terminal)


#: Jurisdiction-owned kinds: a jurisdiction's administrator operates them.
JURISDICTION_ACCOUNT_KINDS = frozenset(
    {
        AccountKind.ISSUANCE,
        AccountKind.ALLOCATION_HOLDING,
        AccountKind.AUCTION_HOLDING,
        AccountKind.RESERVE,
        AccountKind.RETIREMENT,
        AccountKind.CANCELLATION,
    }
)

#: Terminal kinds: instruments that arrive here never leave.
TERMINAL_ACCOUNT_KINDS = frozenset({AccountKind.RETIREMENT, AccountKind.CANCELLATION})


class InstrumentKind(StrEnum):
    """Kinds of compliance instrument."""

    ALLOWANCE = "allowance"
    OFFSET_CREDIT = "offset_credit"
    RESERVE_ALLOWANCE = "reserve_allowance"
    PRICE_CEILING_UNIT = "price_ceiling_unit"
