"""Reading a user's CSV file: the rows with their line numbers, or an error naming the file and what is missing."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openets.errors import InputError


def read_rows(path: str | Path, columns: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row of `path`, whose header must hold `columns`; `what` names the file
    in errors ("units", "facilities"). A byte-order mark (spreadsheets) is not part of the header."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"{path}: cannot read the {what} file ({exc.strerror}); give a CSV with {','.join(columns)}"
        raise InputError(msg) from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        msg = f"{path} line 1: missing column(s) {', '.join(missing)}; the header is {','.join(columns)}"
        raise InputError(msg)
    return list(enumerate(reader, start=2))
