"""Shared fixtures: registries on SQLite (always) and PostgreSQL (when OPENETS_TEST_PG is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_ENV = "OPENETS_TEST_PG"
PG_HINT = (
    f"PostgreSQL tests skipped: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/test to run them "
    "(.ci/run sets it)"
)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards.

    Skips (saying how to enable it) when OPENETS_TEST_PG is unset; fails, never skips, when it is set and
    the server cannot be reached.
    """
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_HINT)
    import psycopg

    try:
        conn = psycopg.connect(base, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"{PG_ENV}={base} is set but the server cannot be reached: {exc}")
    schema = f"openets_t_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.close()


# The shipped programs, loaded once per module (rulebooks are immutable).
@pytest.fixture(scope="module")
def ca():
    from openets.rules import load_program

    return load_program("california")


@pytest.fixture(scope="module")
def qc():
    from openets.rules import load_program

    return load_program("quebec")


@pytest.fixture(scope="module")
def wci():
    from openets.rules import load_program

    return load_program("wci")


@pytest.fixture(scope="module")
def rggi():
    from openets.rules import load_program

    return load_program("rggi")


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return str(tmp_path / "registry.db")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Each registry test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_db_url(request, tmp_path_factory) -> Iterator[str]:
    """Like db_url, shared by the tests of one module (for read-only or must-not-change tests)."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("registry") / "registry.db")
        return
    with pg_schema() as url:
        yield url
