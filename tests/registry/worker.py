"""Child process for the crash and concurrency tests: applies random transfers, printing what it commits.

Usage: python worker.py URL NAME SEED BATCHES MAX_BATCH [START_FILE]
Prints "begin I N" before batch I of N operations and "committed ID ..." once apply_batch has returned.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date

from openets.errors import HoldingLimitExceeded, InsufficientHoldings
from openets.registry import Registry
from openets.registry.ledger import make_move

ACCOUNTS = ["ACME-GEN", "ACME-CMP", "BETA-GEN", "BETA-CMP"]
INSTRUMENT = "CA:allowance:2015"
EFFECTIVE = date(2015, 6, 1)


def main() -> None:
    url, name, seed, batches, max_batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    start_file = sys.argv[6] if len(sys.argv) > 6 else None
    rng = random.Random(seed)
    reg = Registry.open(url)
    if start_file:
        while not os.path.exists(start_file):
            time.sleep(0.005)
    for i in range(batches):
        ops = []
        for j in range(rng.randint(1, max_batch)):
            src, dst = rng.sample(ACCOUNTS, 2)
            ops.append(make_move(f"{name}-{i}-{j}", "transfer", src, dst, INSTRUMENT, rng.randint(1, 40_000), EFFECTIVE))
        print(f"begin {i} {len(ops)}", flush=True)
        try:
            reg.apply_batch(ops)
        except (InsufficientHoldings, HoldingLimitExceeded):
            print(f"refused {i}", flush=True)
            continue
        print("committed " + " ".join(op.op_id for op in ops), flush=True)
    reg.close()


if __name__ == "__main__":
    main()
