"""Finding an entry of a shipped list by its code or its name, any case, with close matches when neither fits."""

from __future__ import annotations

import difflib
from collections.abc import Mapping


def find_code(wanted: str, names: Mapping[str, str]) -> tuple[str | None, str]:
    """(code, "") when `wanted` is a code or a name of `names` (code -> name), else (None, a hint naming close
    matches, or "" when there are none)."""
    text = wanted.strip()
    if text.upper() in names:
        return text.upper(), ""
    by_name = {n.casefold(): code for code, n in names.items()}
    if text.casefold() in by_name:
        return by_name[text.casefold()], ""
    codes = [by_name[n] for n in difflib.get_close_matches(text.casefold(), list(by_name), n=3, cutoff=0.6)]
    codes += difflib.get_close_matches(text.upper(), list(names), n=3, cutoff=0.67)
    hint = ", ".join(f"{code} ({names[code]})" for code in dict.fromkeys(codes))
    return None, (f"; close matches: {hint}" if hint else "")
