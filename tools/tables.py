"""Writing a shipped table, shared by the maintainer tools that derive them (tools/derive_*.py)."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path


def write_table(path: Path, rows: Sequence[dict[str, object]], columns: Sequence[str] | None = None) -> str:
    """Write `rows` as CSV (UTF-8, LF line ends, the header first) and return the file's sha256 for MANIFEST.md."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns or rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return hashlib.sha256(path.read_bytes()).hexdigest()
