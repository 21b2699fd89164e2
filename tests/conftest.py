"""Shared fixtures: registries on SQLite (always) and PostgreSQL (when OPENETS_TEST_PG is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ENV = "OPENETS_TEST_PG"
PG_HINT = (
    f"PostgreSQL tests skipped: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/test to run them "
    "(.ci/run sets it)"
)


def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards.

    Skips (with the way to enable it) when OPENETS_TEST_PG is unset; fails, never skips, when it is set and
    the server cannot be reached.
    """
    base = pg_base_url()
    if base is None:
        pytest.skip(PG_HINT)
    import psycopg

    schema = f"openets_t_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(base, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"{PG_ENV}={base} is set but the server cannot be reached: {exc}")
    conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return str(tmp_path / "registry.db")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Each registry test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")
