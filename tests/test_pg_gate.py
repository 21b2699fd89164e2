"""The PostgreSQL switch: without OPENETS_TEST_PG the PostgreSQL tests skip and say how to enable them; with it
set to a server that cannot be reached they fail, never skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_PG_TEST = "tests/registry/test_store.py::test_transfer_moves_exactly_and_conserves[postgres]"


def _pytest(env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENETS_TEST_PG"}
    if env_value is not None:
        env["OPENETS_TEST_PG"] = env_value
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_PG_TEST],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )


def test_without_the_variable_postgres_tests_skip_with_the_way_to_enable_them():
    proc = _pytest(None)
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout
    assert "set OPENETS_TEST_PG=postgresql://" in proc.stdout


def test_with_the_variable_an_unreachable_server_fails_instead_of_skipping():
    proc = _pytest("postgresql://postgres@127.0.0.1:9/test")  # port 9 (discard): nothing listens here
    assert proc.returncode != 0, proc.stdout
    assert "1 failed" in proc.stdout or "1 error" in proc.stdout
    assert "cannot be reached" in proc.stdout
