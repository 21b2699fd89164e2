"""Durability and isolation: SIGKILLed writers lose nothing they reported, and concurrent writers never
double-spend (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from openets.registry import Registry
from openets.registry.ledger import make_move, replay
from tests.registry.helpers import EFFECTIVE, populated

WORKER = str(Path(__file__).with_name("worker.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def _spread(url: str) -> None:
    """Give every entity account something to spend."""
    with populated(url, supply=2_000_000, to_acme=2_000_000) as reg:
        reg.apply_batch(
            [
                make_move(f"spread-{dst}", "transfer", "ACME-GEN", dst, "CA:allowance:2015", 400_000, EFFECTIVE)
                for dst in ("ACME-CMP", "BETA-GEN", "BETA-CMP")
            ]
        )


def _worker(url: str, name: str, seed: int, batches: int, max_batch: int, start_file: str | None = None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = [sys.executable, WORKER, url, name, str(seed), str(batches), str(max_batch)]
    if start_file:
        args.append(start_file)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _parse(stdout: str) -> tuple[set[str], dict[int, int]]:
    committed: set[str] = set()
    begun: dict[int, int] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "committed":
            committed.update(parts[1:])
        elif parts and parts[0] == "begin":
            begun[int(parts[1])] = int(parts[2])
    return committed, begun


def _journal_ids(reg: Registry) -> set[str]:
    return {op.op_id for op in reg.operations()}


def test_sigkill_loses_no_committed_operation_and_leaves_nothing_half_done(db_url):
    _spread(db_url)
    rng = random.Random(20261128)
    for round_ in range(6):
        name = f"crash{round_}"
        proc = _worker(db_url, name, seed=round_, batches=100_000, max_batch=4)
        lines: list[str] = []
        reader = threading.Thread(target=lambda p=proc: lines.extend(iter(p.stdout.readline, "")), daemon=True)
        reader.start()
        # Kill at a random moment once the worker is writing (start-up time depends on the machine's load).
        deadline = time.monotonic() + 120
        while not any(line.startswith("committed") for line in lines) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(timeout=10)
        stderr = proc.stderr.read()
        assert proc.returncode == -signal.SIGKILL, stderr
        committed, begun = _parse("".join(lines))
        with Registry.open(db_url) as reg:
            ids = _journal_ids(reg)
            report = reg.verify()
        assert report.ok, report.problems
        assert committed <= ids, f"round {round_}: reported committed but missing: {sorted(committed - ids)[:5]}"
        for batch, size in begun.items():
            present = sum(f"{name}-{batch}-{j}" in ids for j in range(size))
            assert present in (0, size), f"round {round_}: batch {batch} half applied ({present} of {size})"
        assert committed, f"round {round_}: the worker committed nothing before it was killed ({stderr[-500:]})"


def test_eight_concurrent_writers_equal_a_serial_replay_and_never_double_spend(db_url, tmp_path):
    _spread(db_url)
    start = tmp_path / "start"
    procs = [_worker(db_url, f"w{k}", seed=100 + k, batches=40, max_batch=3, start_file=str(start)) for k in range(8)]
    time.sleep(1.0)
    start.touch()
    committed: set[str] = set()
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-2000:]
        committed |= _parse(stdout)[0]
    with Registry.open(db_url) as reg:
        report = reg.verify()
        assert report.ok, report.problems
        ops = reg.operations()
        stored = {(r.account_id, r.instrument_key): r.quantity for r in reg.balances()}
    worker_ids = {op.op_id for op in ops if op.op_id.startswith("w")}
    assert worker_ids == committed
    assert len(committed) > 100  # the writers really did contend
    serial = replay(ops)  # raises if any prefix of the journal overdraws an account
    assert serial.nonzero_balances() == stored
    assert all(q >= 0 for (acct, _), q in stored.items() if not acct.endswith("-ISSUANCE"))
    assert sum(q for (acct, _), q in stored.items() if not acct.endswith("-ISSUANCE")) == 2_000_000
