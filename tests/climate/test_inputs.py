"""Malformed pathway files and member counts: an InputError naming the file, the line and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import numpy as np

from openets.climate.model import check_result, co2_ffi_gt, parse_members, read_pathway, warming
from openets.csvfile import read_rows
from openets.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("year,co2\n2030,30\n", ["line 1", "missing column(s) co2_gt", "year,co2_gt"]),
        ("year,co2_gt\n2030,30\n2031,3O\n", ["line 3", "co2_gt '3O' is not a number", "such as 35.2"]),
        ("year,co2_gt\n2030,30\n2031,\n", ["line 3", "co2_gt '' is not a number"]),
        ("year,co2_gt\n2030,30\n2031,nan\n", ["line 3", "co2_gt 'nan' is not a number"]),
        ("year,co2_gt\n2030,30\n2040,20\n2030,25\n", ["line 4", "year 2030 is given twice (first on line 2)", "keep one row per year"]),
        ("year,co2_gt\n2030,30\n2150,0\n", ["line 3", "year 2150 is outside the background scenario (1750-2100)", "give years from 1750 to 2100"]),
        ("year,co2_gt\n1700,0\n", ["line 2", "year 1700 is outside the background scenario"]),
        ("year,co2_gt\n2030.5,30\n", ["line 2", "year '2030.5' is not a whole year", "such as 2030"]),
        ("year,co2_gt\n", ["the pathway has no rows", "year,co2_gt"]),
        ("year,co2_gt\n2030,1e300\n", ["line 2", "co2_gt 1e300 is outside the accepted range -100 to 300 Gt CO2 a "
                                        "year", "not t or Mt"]),
        ("year,co2_gt\n2030,30\n2040,-1000\n", ["line 3", "co2_gt -1000 is outside the accepted range -100 to 300"]),
        ("year,co2_gt\n\n2030,30\n\n\n2031,x\n", ["line 6", "co2_gt 'x' is not a number"]),
        ("year,co2_gt\n2030,30\n2031,3,5\n", ["line 3", "3 cells but the header has 2 (year,co2_gt)",
                                              "quote a value that holds a comma"]),
    ],
    ids=["missing column", "non-numeric", "empty value", "nan", "duplicate year", "after 2100", "before 1750",
         "fractional year", "no rows", "absurdly large", "impossible removal", "blank lines", "extra cell"],
)
def test_malformed_pathways_say_what_where_and_how_to_fix(tmp_path, text, words):
    path = tmp_path / "pathway.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_pathway(path)
    message = str(info.value)
    assert message.startswith(str(path))
    for word in words:
        assert word in message


def test_a_file_that_is_not_utf8_is_named_with_the_fix(tmp_path):
    path = tmp_path / "pathway.csv"
    path.write_bytes("year,co2_gt\n2030,30\n2031,29 # \u00e9t\u00e9\n".encode("cp1252"))
    with pytest.raises(InputError) as info:
        read_pathway(path)
    assert str(info.value) == (f"{path} line 3: the pathway file is not UTF-8 (byte 0xe9 at offset 30); save it as "
                               "CSV UTF-8 (in a spreadsheet: Save As, 'CSV UTF-8')")


def test_line_numbers_count_blank_lines_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "pathway.csv"
    path.write_text("\ufeffyear,co2_gt\r\n\r\n2030,30\r\n2040,20,\r\n\r\n2050,10\r\n")
    rows = read_rows(path, ("year", "co2_gt"), "pathway")
    # A trailing empty cell (spreadsheets write them) carries nothing and is accepted; a short row has None.
    assert [(line, row["year"]) for line, row in rows] == [(3, "2030"), (4, "2040"), (6, "2050")]
    path.write_text("year,co2_gt,note\n2030,30,\"two\nlines\"\n2040\n")
    assert read_rows(path, ("year", "co2_gt"), "pathway") == [
        (2, {"year": "2030", "co2_gt": "30", "note": "two\nlines"}),
        (4, {"year": "2040", "co2_gt": None, "note": None}),
    ]


def test_impossible_values_given_in_code_are_refused_too():
    with pytest.raises(InputError, match=r"pathway year 2030: CO2 1e\+300 Gt a year is outside the accepted range -100 "
                                         "to 300 Gt CO2 a year"):
        co2_ffi_gt({2030: 1e300})
    with pytest.raises(InputError, match="pathway year 2030: CO2 nan"):
        co2_ffi_gt({2030: float("nan")})


def test_a_run_whose_co2_concentration_goes_below_zero_is_refused():
    # -100 Gt a year from 2021 to 2100 is inside the accepted range, but removes 8,000 Gt CO2: more than the
    # atmosphere holds (about 3,300 Gt at 420 ppm) and the ocean and land give back. FaIR's concentration turns
    # negative before 2100; the run is refused.
    with pytest.raises(InputError, match=r"FaIR gave a CO2 concentration that is not a positive number under pathway "
                                         r"'pathway' in 20\d\d \(member \d+\): the pathway removes more CO2 than the "
                                         "air holds"):
        warming({2021: -100.0, 2100: -100.0}, members=2)


def test_a_non_finite_temperature_is_refused():
    temperature = np.zeros((4, 1, 2, 1))
    temperature[2, 0, 1, 0] = np.nan
    fake = SimpleNamespace(temperature=SimpleNamespace(data=temperature), species=["CO2"], configs=[7, 9],
                           concentration=SimpleNamespace(data=np.full((4, 1, 2, 1), 400.0)))
    with pytest.raises(InputError, match=r"FaIR gave a temperature that is not a finite number under pathway 'p' in "
                                         r"1752 \(member 9\)"):
        check_result(fake, ("p",))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="cannot read the pathway file"):
        read_pathway(tmp_path / "nope.csv")


@pytest.mark.parametrize("text", ["0", "842", "many", "-5"])
def test_member_counts_outside_the_ensemble_are_refused(text):
    with pytest.raises(InputError) as info:
        parse_members(text)
    assert str(info.value) == f"--members '{text}': give a number of ensemble members from 1 to 841, or all"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openets.cli", "climate", "warming", *args],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)


def test_cli_prints_the_summary_as_json(tmp_path):
    path = tmp_path / "pathway.csv"
    path.write_text("year,co2_gt\n2025,37\n2050,10\n2100,0\n")
    proc = cli("--pathway", str(path), "--members", "10", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["members"] == 10 and out["pathway_years"] == [2025, 2100]
    assert out["calibration"] == "1.4.1" and out["background"] == "medium-extension"
    for key in ("median_2100_k", "p5_2100_k", "p95_2100_k", "p_below_1_5", "p_below_2"):
        assert isinstance(out[key], float)
    assert out["p5_2100_k"] <= out["median_2100_k"] <= out["p95_2100_k"]


def test_cli_reports_a_bad_line_as_an_error(tmp_path):
    path = tmp_path / "pathway.csv"
    path.write_text("year,co2_gt\n2030,thirty\n")
    proc = cli("--pathway", str(path))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: {path} line 2: co2_gt 'thirty' is not a number")
