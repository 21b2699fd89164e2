"""Read rulebook TOML files into validated Programs, with errors that name the file, line, key, value and fix."""

from __future__ import annotations

import re
import tomllib
import types
import typing
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from openets.errors import RulebookError
from openets.rules.model import LinkedMarket, Program, Rulebook

PROGRAMS_DIR = Path(__file__).parent / "programs"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# ------------------------------------------------------------------------------------------------------------
# Public entry points.
# ------------------------------------------------------------------------------------------------------------


def program_ids() -> list[str]:
    """Ids of the shipped programs (the stems of `rules/programs/*.toml`)."""
    return sorted(p.stem for p in PROGRAMS_DIR.glob("*.toml"))


def load_program(program_id: str) -> Program:
    """The shipped program `program_id` (e.g. "california", "wci"); RulebookError listing the ids if unknown."""
    if not isinstance(program_id, str) or program_id not in program_ids():
        msg = (
            f"unknown program id {program_id!r}; expected one of: {', '.join(program_ids())}. "
            "Fix: use one of these ids, or load your own file with load_rulebook_file(path) "
            "(`openets rules check FILE.toml` validates one)"
        )
        raise RulebookError(msg)
    return _load_shipped(program_id)


def load_rulebook_file(path: str | Path) -> Program:
    """A program from any rulebook file; member programs are looked up beside it, then among the shipped ones."""
    return _resolve(Path(path))


def list_programs() -> list[Program]:
    """Every shipped program, sorted by id."""
    return [load_program(program_id) for program_id in program_ids()]


@cache
def _load_shipped(program_id: str) -> Program:
    # Programs are frozen, so one parsed copy per id can be shared by every caller.
    return _resolve(PROGRAMS_DIR / f"{program_id}.toml")


# ------------------------------------------------------------------------------------------------------------
# Reading and validating one file.
# ------------------------------------------------------------------------------------------------------------


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"rulebook {path} does not exist. Fix: check the path (shipped programs: {', '.join(program_ids())})"
        raise RulebookError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"rulebook {path} cannot be read ({exc}). Fix: make it a readable UTF-8 text file"
        raise RulebookError(msg) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError(_toml_message(path, text, exc)) from None


def _toml_message(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid syntax"
    if where is None:
        return f"rulebook {path}: not valid TOML: {reason}. Fix: correct the TOML syntax"
    line_no = int(where.group(1))
    lines = text.splitlines()
    found = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
    return (
        f"rulebook {path}, line {line_no}, column {where.group(2)}: not valid TOML: {reason}; "
        f"found {found!r}; expected valid TOML syntax (key = value, [table], quoted strings). "
        "Fix: correct that line"
    )


def _parse(path: Path) -> tuple[Rulebook, str]:
    text, data = _read(path)
    try:
        return Rulebook.model_validate(data), text
    except ValidationError as exc:
        problems = [_problem(err, text) for err in exc.errors(include_url=False)]
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        msg = f"rulebook {path} is invalid ({count}):\n" + "\n".join(f"  {p}" for p in problems)
        raise RulebookError(msg) from None


# ------------------------------------------------------------------------------------------------------------
# Resolving references between rulebooks (a linkage's members; a holding limit on a linked market).
# ------------------------------------------------------------------------------------------------------------


def _resolve(path: Path) -> Program:
    rulebook, text = _parse(path)
    market = None
    if rulebook.program.kind == "linkage":
        market = _market(rulebook, path, text)
    elif rulebook.holding_limit is not None and rulebook.holding_limit.linkage is not None:
        key = ("holding_limit", "linkage")
        linkage, linkage_path, linkage_text = _find(rulebook.holding_limit.linkage, path, text, key)
        if linkage.program.kind != "linkage":
            msg = _located(
                path,
                text,
                key,
                f"found {linkage.program.id!r}, a rulebook of kind {linkage.program.kind!r}; "
                "expected the id of a linkage rulebook (kind = 'linkage'). Fix: name the linkage, e.g. 'wci'",
            )
            raise RulebookError(msg)
        market = _market(linkage, linkage_path, linkage_text)
        if rulebook.program.jurisdictions[0] not in linkage.program.jurisdictions:
            msg = _located(
                path,
                text,
                key,
                f"found linkage {linkage.program.id!r}, whose members are {list(linkage.program.jurisdictions)}; "
                f"expected one that includes {rulebook.program.jurisdictions[0]}. Fix: name the linkage this "
                "program belongs to",
            )
            raise RulebookError(msg)
    return Program(rulebook=rulebook, market=market, origin=str(path))


def _market(linkage: Rulebook, path: Path, text: str) -> LinkedMarket:
    members: dict[str, Rulebook] = {}
    for index, membership in enumerate(linkage.members):
        if membership.program is None:
            continue
        key: tuple[str | int, ...] = ("members", index, "program")
        member, _, _ = _find(membership.program, path, text, key)
        if member.program.kind != "program":
            msg = _located(
                path,
                text,
                key,
                f"found {membership.program!r}, a {member.program.kind}; expected a program rulebook "
                "(linkages do not nest). Fix: list the programs themselves",
            )
            raise RulebookError(msg)
        if membership.jurisdiction not in member.program.jurisdictions:
            msg = _located(
                path,
                text,
                ("members", index, "jurisdiction"),
                f"found {membership.jurisdiction!r}, but program {membership.program!r} covers "
                f"{list(member.program.jurisdictions)}; expected one of those. Fix: correct the jurisdiction",
            )
            raise RulebookError(msg)
        if member.program.allowance_unit != linkage.program.allowance_unit:
            msg = _located(
                path,
                text,
                key,
                f"found {membership.program!r} counting {member.program.allowance_unit}; expected "
                f"{linkage.program.allowance_unit} like the linkage. Fix: link only programs with the same unit",
            )
            raise RulebookError(msg)
        members[membership.program] = member
    return LinkedMarket(linkage=linkage, member_rulebooks=members)


def _find(program_id: str, near: Path, text: str, key: Sequence[str | int]) -> tuple[Rulebook, Path, str]:
    """A referenced rulebook: `<id>.toml` beside the referring file first, then the shipped programs."""
    for candidate in (near.parent / f"{program_id}.toml", PROGRAMS_DIR / f"{program_id}.toml"):
        if candidate.is_file():
            rulebook, found_text = _parse(candidate)
            if rulebook.program.id != program_id:
                msg = (
                    f"{candidate}: program.id is {rulebook.program.id!r} but the file is named {candidate.name}; "
                    f"expected id {program_id!r}. Fix: make the id and the file name agree"
                )
                raise RulebookError(msg)
            return rulebook, candidate, found_text
    shipped = ", ".join(program_ids())
    msg = _located(
        near,
        text,
        key,
        f"found program id {program_id!r}, but there is no {program_id}.toml beside this file and no shipped "
        f"program of that id; expected one of: {shipped}. Fix: correct the id or put {program_id}.toml "
        "next to this file",
    )
    raise RulebookError(msg)


def _located(path: Path, text: str, key: Sequence[str | int], detail: str) -> str:
    line = locate(text, key)
    where = f", line {line}" if line else ""
    return f"rulebook {path}{where}, at {key_path(key)}: {detail}"


# ------------------------------------------------------------------------------------------------------------
# Turning pydantic errors into messages: where (line, key path), found, expected, fix.
# ------------------------------------------------------------------------------------------------------------


def key_path(loc: Sequence[str | int]) -> str:
    """A location as a key path: `("members", 2, "program")` -> `members[2].program`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def _split_key(raw: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", raw)]


def locate(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line that defines `loc` (or its nearest enclosing key or table) in TOML `text`."""
    target = [str(p) for p in loc]
    counts: dict[tuple[str, ...], int] = {}  # array-of-tables path -> elements seen
    arrays: set[tuple[str, ...]] = set()
    table: list[str] = []
    best_line, best_len = None, 0
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:  # skip the body of a multi-line string
            in_multiline = line.count('"""') % 2 == 0
            continue
        header = _HEADER.match(line)
        if header:
            parts = _split_key(header.group(2))
            resolved: list[str] = []
            for i, part in enumerate(parts):
                resolved.append(part)
                is_last = i == len(parts) - 1
                if is_last and header.group(1) == "[[":
                    path = tuple(resolved)
                    arrays.add(path)
                    counts[path] = counts.get(path, 0) + 1
                    resolved.append(str(counts[path] - 1))
                elif tuple(resolved) in arrays:
                    resolved.append(str(counts[tuple(resolved)] - 1))
            table = resolved
            candidate = table
        else:
            key = _KEY.match(line)
            if key is None:
                continue
            candidate = table + _split_key(key.group(1))
            if line.count('"""') % 2 == 1:
                in_multiline = True
        if candidate == target:
            return number
        if target[: len(candidate)] == candidate and len(candidate) > best_len:
            best_line, best_len = number, len(candidate)
    return best_line


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class whose fields sit at `loc` in a Rulebook, to list the keys it accepts."""
    annotation: Any = Rulebook
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif typing.get_origin(annotation) in (list, tuple, dict):
            annotation = typing.get_args(annotation)[-1 if typing.get_origin(annotation) is dict else 0]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation


_EXPECTED = {
    "int_type": 'a whole number (allowance counts are integers: write 162_800_000, not 162.8 or "162800000")',
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a text string in double quotes",
    "bool_type": "true or false",
    "date_type": "a TOML date such as 2014-01-01 (no quotes)",
    "date_parsing": "a TOML date such as 2014-01-01 (no quotes)",
    "date_from_datetime_parsing": "a TOML date such as 2014-01-01 (no quotes)",
    "tuple_type": 'a list in brackets, e.g. ["CA"]',
    "list_type": "a list in brackets",
    "dict_type": "a table ([section] or { key = value })",
    "model_type": "a table ([section] or { key = value })",
    "model_attributes_type": "a table ([section] or { key = value })",
    "decimal_type": "a number such as 0.05 or 10.71",
    "decimal_parsing": "a number such as 0.05 or 10.71",
}

_FIX = {
    "missing": "add the key",
    "extra_forbidden": "remove the key or correct its spelling",
    "int_type": "write the value as a whole number",
    "int_parsing": "write the value as a whole number",
    "int_from_float": "write the value as a whole number",
    "greater_than_equal": "use a value within that bound",
    "greater_than": "use a value within that bound",
    "less_than_equal": "use a value within that bound",
    "less_than": "use a value within that bound",
    "tuple_type": "write a list in brackets",
    "list_type": "write a list in brackets",
    "string_type": "put the text in double quotes",
    "date_type": "write the date unquoted as YYYY-MM-DD",
    "date_parsing": "write the date unquoted as YYYY-MM-DD",
    "literal_error": "use one of the listed values",
    "enum": "use one of the listed values",
    "string_pattern_mismatch": "use lowercase letters, digits and underscores for ids, capitals for jurisdictions",
}


def _problem(err: Any, text: str) -> str:
    loc = list(err["loc"])
    kind = err["type"]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    line = locate(text, loc)
    where = (f"line {line}, " if line else "") + f"at {key_path(loc) or '(top level)'}"
    value = err.get("input")
    if kind == "missing":
        name = loc[-1] if loc else "?"
        example = ' = "<regulation section or official document>"' if name == "source" else " = ..."
        return (
            f"{where}: found nothing (the key `{name}` is missing); expected a value for `{name}`. "
            f"Fix: add `{name}{example}` to [{key_path(loc[:-1])}]"
        )
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = ", ".join(model.model_fields) if model else "the documented keys"
        return (
            f"{where}: found unknown key `{loc[-1]}` = {_show(value)}; expected one of: {allowed}. "
            f"Fix: {_FIX[kind]}"
        )
    if kind == "value_error":  # our own validators already say what was found and what is expected
        detail = str(err["msg"]).removeprefix("Value error, ").rstrip(".")
        fix = "" if "Fix:" in detail else " Fix: correct the value"
        return f"{where}: {detail}.{fix}"
    raw = str(err["msg"])
    if kind in ("literal_error", "enum"):
        expected = "one of " + raw.removeprefix("Input should be ")
    elif raw.startswith("Input should be "):
        expected = _EXPECTED.get(kind) or "a value " + raw.removeprefix("Input should be ")
    else:
        expected = _EXPECTED.get(kind) or _lower_first(raw)
    what = "key" if is_key else "value"
    fix = _FIX.get(kind, "correct the value")
    return f"{where}: found {what} {_show(value)}; expected {expected}. Fix: {fix}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    shown = repr(value)
    kind = type(value).__name__
    return shown if len(shown) <= 60 else shown[:57] + "..." + f" ({kind})"
