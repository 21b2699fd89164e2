"""Small builders shared by the registry tests."""

from __future__ import annotations

from datetime import date

from openets.registry import Registry
from openets.registry.ledger import make_move

#: Entity accounts used across tests: two owners, each with a general and a compliance account.
ENTITY_ACCOUNTS = [
    ("ACME-GEN", "acme", "general_holding", "CA"),
    ("ACME-CMP", "acme", "compliance", "CA"),
    ("BETA-GEN", "beta", "general_holding", "QC"),
    ("BETA-CMP", "beta", "compliance", "QC"),
]
#: A date inside the WCI link (2015), so holding limits use a known year's budget.
EFFECTIVE = date(2015, 6, 1)


def populated(url: str, supply: int = 1_000_000, to_acme: int = 1_000_000) -> Registry:
    """A WCI registry with the entity accounts, `supply` CA 2015 allowances issued to the auction holding
    account and `to_acme` of them transferred to ACME-GEN."""
    reg = Registry.create(url, "wci")
    for account_id, owner, kind, jurisdiction in ENTITY_ACCOUNTS:
        reg.open_account(account_id, owner, kind, jurisdiction)
    reg.apply(make_move("seed-issue", "issue", "CA-ISSUANCE", "CA-AUCTION", "CA:allowance:2015", supply, EFFECTIVE))
    if to_acme:
        reg.apply(make_move("seed-sale", "transfer", "CA-AUCTION", "ACME-GEN", "CA:allowance:2015", to_acme, EFFECTIVE))
    return reg
