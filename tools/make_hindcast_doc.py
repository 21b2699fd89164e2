"""Write docs/wci_hindcast_2013_2018.md, docs/rggi_hindcast_2009_2020.md and their figures from fresh runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openets.market.hindcast import (
    RGGI_SIMULATE,
    calibrate,
    figure,
    markdown,
    rggi_counterfactuals,
    rggi_figure,
    rggi_markdown,
    run,
)
from openets.rules.load import load_program

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    program = load_program("wci")
    c = calibrate(program)
    h = run(program, c.mac_price, c.rate)
    figure(h, str(DOCS / "wci_hindcast_2013_2018.png"))
    (DOCS / "wci_hindcast_2013_2018.md").write_text(markdown(program, c, h, "wci_hindcast_2013_2018.png"), encoding="utf-8")
    print(f"WCI calibrated: MAC {c.mac_price:g}, rate {c.rate:.3f}, error {c.objective:.5f}")
    rggi = load_program("rggi")
    runs = rggi_counterfactuals(rggi)
    rggi_figure(runs, str(DOCS / "rggi_hindcast_2009_2020.png"))
    out = subprocess.run([sys.executable, "-m", "openets.cli", "simulate", *RGGI_SIMULATE, "--json"],
                         check=True, capture_output=True, text=True).stdout
    (DOCS / "rggi_hindcast_2009_2020.md").write_text(
        rggi_markdown(runs, "rggi_hindcast_2009_2020.png", json.loads(out)), encoding="utf-8")
    print("RGGI hindcast written")


if __name__ == "__main__":
    main()
