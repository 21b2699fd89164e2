"""Read sealed bids from CSV (bidder,bidder_type,price,quantity,currency) with row-numbered errors."""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from openets.auction.clearing import BIDDER_TYPES, CURRENCIES, PRICE_MAX_CENTS, QUANTITY_MAX, BidArrays
from openets.errors import InputError

COLUMNS = ("bidder", "bidder_type", "price", "quantity", "currency")
CENT = Decimal("0.01")
PRICE_MAX = Decimal(PRICE_MAX_CENTS) / 100


def read_bids(path: str | Path, lot_size: int) -> BidArrays:
    """Bids from a CSV file: price per allowance in the bid's currency (dollars and cents), quantity in
    allowances (a multiple of `lot_size`). The first bad row stops the read with its line number."""
    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        msg = f"cannot read bids file {path}: {exc.strerror}"
        raise InputError(msg) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            msg = f"{path}: the file is empty; expected a header row {','.join(COLUMNS)}"
            raise InputError(msg)
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            msg = f"{path} line 1: missing column(s) {', '.join(missing)}; expected the columns {','.join(COLUMNS)}"
            raise InputError(msg)
        at = {c: names.index(c) for c in COLUMNS}
        bidders: dict[str, int] = {}
        bidder, btype, price, qty, cur = [], [], [], [], []
        for line, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            where = f"{path} line {line}"
            if len(row) < len(names):
                msg = f"{where}: {len(row)} fields, expected {len(names)} ({','.join(names)})"
                raise InputError(msg)
            name = row[at["bidder"]].strip()
            if not name:
                msg = f"{where}: the bidder is empty"
                raise InputError(msg)
            kind = row[at["bidder_type"]].strip()
            if kind not in BIDDER_TYPES:
                msg = f"{where}: bidder type {kind!r} is unknown; valid types: {', '.join(BIDDER_TYPES)}"
                raise InputError(msg)
            currency = row[at["currency"]].strip().upper()
            if currency not in CURRENCIES:
                msg = f"{where}: currency {row[at['currency']].strip()!r} is unknown; valid currencies: {', '.join(CURRENCIES)}"
                raise InputError(msg)
            text = row[at["price"]].strip()
            try:
                amount = Decimal(text)
                whole_cents = amount.is_finite() and 0 <= amount <= PRICE_MAX and amount == amount.quantize(CENT)
            except (InvalidOperation, ArithmeticError):
                whole_cents = False
            if not whole_cents:
                msg = (
                    f"{where}: price {text!r} is not an amount in dollars and cents (e.g. 12.73) from 0 to "
                    f"{PRICE_MAX:,}"
                )
                raise InputError(msg)
            text = row[at["quantity"]].strip()
            if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= QUANTITY_MAX or int(text) % lot_size:
                msg = (
                    f"{where}: quantity {text!r} is not a positive whole multiple of the lot size {lot_size:,} "
                    f"allowances (at most {QUANTITY_MAX:,})"
                )
                raise InputError(msg)
            bidder.append(bidders.setdefault(name, len(bidders)))
            btype.append(BIDDER_TYPES.index(kind))
            price.append(int(amount * 100))
            qty.append(int(text))
            cur.append(CURRENCIES.index(currency))
    return BidArrays(
        bidder=np.array(bidder, dtype=np.int64),
        bidder_names=tuple(bidders),
        bidder_type=np.array(btype, dtype=np.int8),
        price_cents=np.array(price, dtype=np.int64),
        quantity=np.array(qty, dtype=np.int64),
        currency=np.array(cur, dtype=np.int8),
    )
