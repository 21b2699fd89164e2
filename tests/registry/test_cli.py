"""The `openets registry` command line: JSON output, and a table of malformed inputs that each fail clearly
and leave the registry exactly as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openets.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, db: str | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "openets.cli", *args]
    if db is not None:
        argv += ["--db", db]
    env = dict(os.environ)
    env.pop("OPENETS_DB", None)
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}): {proc.stderr}")
    return proc


def build(db_url: str) -> str:
    """A WCI registry built through the CLI: two entities, 1,000,000 CA 2015 allowances with ACME."""
    cli("registry", "init", "--program", "wci", db=db_url, check=True)
    cli("registry", "open-account", "ACME-GEN", "--owner", "acme", "--kind", "general_holding", "--jurisdiction", "CA", db=db_url, check=True)
    cli("registry", "open-account", "BETA-GEN", "--owner", "beta", "--kind", "general_holding", "--jurisdiction", "QC", db=db_url, check=True)
    cli("registry", "issue", "--op-id", "iss-1", "--to", "CA-AUCTION", "--jurisdiction", "CA", "--vintage", "2015",
        "--quantity", "20000000", "--date", "2015-02-01", db=db_url, check=True)
    cli("registry", "transfer", "--op-id", "sale-1", "--from", "CA-AUCTION", "--to", "ACME-GEN",
        "--instrument", "CA:allowance:2015", "--quantity", "1000000", "--date", "2015-02-01", db=db_url, check=True)
    return db_url


@pytest.fixture
def cli_db(db_url) -> str:
    return build(db_url)


@pytest.fixture(scope="module")
def shared_db(module_db_url) -> str:
    """One registry for all bad-input cases: each case must leave it unchanged, which the test checks."""
    return build(module_db_url)


def test_cli_round_trip_json(cli_db):
    out = cli("registry", "transfer", "--op-id", "t-1", "--from", "ACME-GEN", "--to", "BETA-GEN", "--instrument",
              "CA:allowance:2015", "--quantity", "1234", "--date", "2015-03-01", "--json", db=cli_db, check=True)
    receipt = json.loads(out.stdout)
    assert receipt["op_id"] == "t-1" and receipt["status"] == "applied"
    again = json.loads(cli("registry", "transfer", "--op-id", "t-1", "--from", "ACME-GEN", "--to", "BETA-GEN",
                           "--instrument", "CA:allowance:2015", "--quantity", "1234", "--date", "2015-03-01",
                           "--json", db=cli_db, check=True).stdout)
    assert again["status"] == "exists" and again["seq"] == receipt["seq"]
    balances = json.loads(cli("registry", "balance", "--account", "BETA-GEN", "--json", db=cli_db, check=True).stdout)
    assert balances["balances"] == [
        {"account_id": "BETA-GEN", "owner": "beta", "account_kind": "general_holding", "jurisdiction": "QC",
         "instrument_key": "CA:allowance:2015", "instrument_kind": "allowance", "vintage": 2015, "quantity": 1234}
    ]
    history = json.loads(cli("registry", "history", "--account", "BETA-GEN", "--json", db=cli_db, check=True).stdout)
    assert [e["op_id"] for e in history["entries"]] == ["open:BETA-GEN", "t-1"]
    report = json.loads(cli("registry", "verify", "--json", db=cli_db, check=True).stdout)
    assert report["ok"] and report["issued"] == 20_000_000 and report["held"] == 20_000_000
    human = cli("registry", "verify", db=cli_db, check=True).stdout
    assert "verify OK" in human and "issued 20,000,000" in human


def test_cli_surrender_retire_cancel(cli_db):
    cli("registry", "open-account", "ACME-CMP", "--owner", "acme", "--kind", "compliance", "--jurisdiction", "CA", db=cli_db, check=True)
    common = ["--instrument", "CA:allowance:2015", "--date", "2015-11-01"]
    cli("registry", "transfer", "--op-id", "c1", "--from", "ACME-GEN", "--to", "ACME-CMP", "--quantity", "600", *common, db=cli_db, check=True)
    cli("registry", "surrender", "--op-id", "s1", "--from", "ACME-CMP", "--to", "CA-RETIREMENT", "--quantity", "500", *common, db=cli_db, check=True)
    cli("registry", "transfer", "--as", "retire", "--op-id", "r1", "--from", "ACME-GEN", "--to", "CA-RETIREMENT", "--quantity", "5", *common, db=cli_db, check=True)
    cli("registry", "cancel", "--op-id", "x1", "--from", "ACME-CMP", "--to", "CA-CANCELLATION", "--quantity", "1", *common, db=cli_db, check=True)
    report = json.loads(cli("registry", "verify", "--json", db=cli_db, check=True).stdout)
    assert (report["retired"], report["cancelled"]) == (505, 1)


TRANSFER = ["registry", "transfer", "--from", "ACME-GEN", "--to", "BETA-GEN", "--date", "2015-03-01"]

# (case, argv, words the error must contain): each names what is wrong, where, and the way out.
BAD_INPUTS = [
    ("zero quantity", [*TRANSFER, "--op-id", "b1", "--instrument", "CA:allowance:2015", "--quantity", "0"],
     ["'b1'", "quantity 0 is not positive", "at least 1"]),
    ("negative quantity", [*TRANSFER, "--op-id", "b2", "--instrument", "CA:allowance:2015", "--quantity", "-5"],
     ["'b2'", "quantity -5 is not positive"]),
    ("unknown account", ["registry", "transfer", "--op-id", "b3", "--from", "ACME-GEN", "--to", "NOPE",
                         "--instrument", "CA:allowance:2015", "--quantity", "1"],
     ["credit account 'NOPE' does not exist", "open it first"]),
    ("unknown instrument kind", [*TRANSFER, "--op-id", "b4", "--instrument", "CA:widget:2015", "--quantity", "1"],
     ["CA:widget:2015", "unknown kind 'widget'", "valid kinds: allowance"]),
    ("instrument of another program", [*TRANSFER, "--op-id", "b5", "--instrument", "NY:allowance:2015", "--quantity", "1"],
     ["jurisdiction 'NY'", "not part of program 'wci'", "valid jurisdictions: CA, QC"]),
    ("instrument never issued", [*TRANSFER, "--op-id", "b6", "--instrument", "QC:allowance:2016", "--quantity", "1"],
     ["QC:allowance:2016 has never been issued", "issue it first"]),
    ("malformed instrument", [*TRANSFER, "--op-id", "b7", "--instrument", "CA-2015", "--quantity", "1"],
     ["'CA-2015' is malformed", "JURISDICTION:KIND:VINTAGE"]),
    ("vintage the program does not have", ["registry", "issue", "--op-id", "b8", "--to", "CA-AUCTION",
                                            "--jurisdiction", "CA", "--vintage", "2045", "--quantity", "1"],
     ["no vintage 2045 allowances for CA", "2013-2031"]),
    ("over the holding limit", [*TRANSFER[:3], "CA-AUCTION", *TRANSFER[4:], "--op-id", "b9", "--instrument",
                                "CA:allowance:2015", "--quantity", "13370001"],
     ["owner 'beta' would hold 13,370,001", "holding limit of 13,370,000", "at most 13,370,000 more"]),
    ("duplicate id with other content", [*TRANSFER, "--op-id", "sale-1", "--instrument", "CA:allowance:2015", "--quantity", "2"],
     ["'sale-1' was already used for other content", "choose a new id"]),
    ("overdraft", [*TRANSFER[:3], "BETA-GEN", "--to", "ACME-GEN", "--date", "2015-03-01", "--op-id", "b10",
                   "--instrument", "CA:allowance:2015", "--quantity", "1"],
     ["'BETA-GEN' holds 0 of CA:allowance:2015", "move at most 0"]),
    ("bad date", ["registry", "transfer", "--from", "ACME-GEN", "--to", "BETA-GEN", "--date", "2015-13-01",
                  "--op-id", "b11", "--instrument", "CA:allowance:2015", "--quantity", "1"],
     ["--date '2015-13-01' is not a date", "YYYY-MM-DD"]),
    ("op id with spaces", [*TRANSFER, "--op-id", "my op", "--instrument", "CA:allowance:2015", "--quantity", "1"],
     ["'my op'", "not allowed", "no spaces"]),
    ("unknown program", ["registry", "init", "--program", "nosuch"],
     ["unknown program id 'nosuch'", "california"]),
    ("another program in this registry", ["registry", "init", "--program", "rggi"],
     ["already holds program 'wci'", "another --db"]),
    ("surrender from a general account", ["registry", "surrender", "--op-id", "b12", "--from", "ACME-GEN", "--to",
                                          "CA-RETIREMENT", "--instrument", "CA:allowance:2015", "--quantity", "1"],
     ["a surrender cannot debit 'ACME-GEN'", "it debits: compliance"]),
]


@pytest.mark.parametrize(("case", "argv", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_clearly_and_changes_nothing(shared_db, case, argv, words):
    with Registry.open(shared_db) as reg:
        before = reg.dump()
    proc = cli(*argv, db=shared_db)
    assert proc.returncode != 0, f"{case}: exited 0 ({proc.stdout})"
    message = " ".join(proc.stderr.split())
    assert message.startswith("error:"), message
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"
    assert "Traceback" not in proc.stderr
    with Registry.open(shared_db) as reg:
        assert reg.dump() == before, f"{case}: the registry changed"


def test_malformed_rulebook_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text('[program]\nid = "mine"\nname = "Mine\n')
    proc = cli("rules", "check", str(bad))
    assert proc.returncode != 0
    assert "mine.toml" in proc.stderr and "line 3" in proc.stderr


def test_not_a_registry_says_how_to_create_one(tmp_path):
    missing = tmp_path / "missing.db"
    proc = cli("registry", "balance", db=str(missing))
    assert proc.returncode != 0
    assert "there is no registry at" in proc.stderr and "openets registry init" in proc.stderr
    assert not missing.exists()  # nothing left behind
    empty = tmp_path / "empty.db"
    empty.touch()
    proc = cli("registry", "balance", db=str(empty))
    assert proc.returncode != 0
    assert "is not an openets registry" in proc.stderr and "openets registry init" in proc.stderr
