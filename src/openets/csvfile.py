"""Reading a user's CSV file: the rows with their line numbers, or an error naming the file and what is missing."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openets.errors import InputError


def read_rows(path: str | Path, columns: Sequence[str], what: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row of `path`, whose header must hold `columns`; `what` names the file
    in errors ("units", "facilities"). A byte-order mark (spreadsheets) is not part of the header.

    The line number is the file's own line where the row starts (blank lines and quoted line breaks counted).
    Blank lines are skipped; a row with fewer cells than the header has None for the missing ones (as
    csv.DictReader); a row with more non-empty cells than the header is refused (a comma inside a value that was
    not quoted, or a decimal comma), as is a file that is not UTF-8."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read the {what} file ({exc.strerror}); give a CSV with {','.join(columns)}"
        raise InputError(msg) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        msg = (f"{path} line {line}: the {what} file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
               f"{exc.start}); save it as CSV UTF-8 (in a spreadsheet: Save As, 'CSV UTF-8')")
        raise InputError(msg) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    missing = [c for c in columns if c not in header]
    if missing:
        msg = f"{path} line 1: missing column(s) {', '.join(missing)}; expected the header {','.join(columns)}"
        raise InputError(msg)
    rows: list[tuple[int, dict[str, str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            msg = f"{path} line {reader.line_num}: {exc}; check the quotes on that line"
            raise InputError(msg) from None
        if not cells:
            continue  # a blank line
        extra = cells[len(header):]
        if any(c.strip() for c in extra):
            msg = (f"{path} line {start}: {len(cells)} cells but the header has {len(header)} "
                   f"({','.join(header)}); remove the extra cells, or quote a value that holds a comma")
            raise InputError(msg)
        row: dict[str, str] = dict(zip(header, cells))
        for name in header[len(cells):]:
            row[name] = None  # type: ignore[assignment]  # as csv.DictReader: a short row's missing cells
        rows.append((start, row))
    return rows
