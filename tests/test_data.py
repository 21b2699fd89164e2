"""The shipped tables: listed in MANIFEST.md with their checksums, and golden figures from their sources."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from openets.data import free_allocation, table
from openets.errors import InputError

DATA = resources.files("openets.data")


def test_every_shipped_table_is_in_the_manifest_with_its_checksum():
    manifest = DATA.joinpath("MANIFEST.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([^`]+\.csv(?:\.gz)?)` \| \d+ \| `([0-9a-f]{64})` \|", manifest, flags=re.M))
    shipped = {p.name for p in DATA.iterdir() if p.name.endswith((".csv", ".csv.gz"))}
    assert set(listed) == shipped
    for name, digest in listed.items():
        assert hashlib.sha256(DATA.joinpath(name).read_bytes()).hexdigest() == digest, name


def test_free_allocation_golden_figures():
    # CA 2013 EDU allocation: sum over utilities of CARB electricity-allocation.xlsx (EDU allocations 2013-2020),
    # shared/data/wci/ca_electricity_allocations_by_utility.csv: 95,843,688.
    assert free_allocation("CA", 2013)["electrical_distribution_utility"] == 95_843_688
    # CA 2015 natural-gas suppliers: CARB annual allocation report, shared/data/wci/ca_allocations_by_type.csv.
    assert free_allocation("CA", 2015)["natural_gas_supplier"] == 45_356_999
    # QC 2013 after true-up #3 (17 May 2017): MELCC notices, shared/data/wci/qc_allocations.csv.
    assert free_allocation("QC", 2013) == {"all_emitters": 18_952_508}


def test_missing_figures_say_what_is_shipped():
    with pytest.raises(InputError, match="no shipped free-allocation figures for CA vintage 2031 \\(shipped: 2013-2030\\)"):
        free_allocation("CA", 2031)
    with pytest.raises(InputError, match="shipped tables: .*wci_auction_history_2012_2018.csv, .*wci_free_allocation_2013_2018.csv"):
        table("nope.csv")
