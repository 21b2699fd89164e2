"""Alembic environment for the registry schema; run by openets.registry.store.migrate, never by hand-editing."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    msg = "the openets registry migrations run through openets.registry.store.migrate(); no connection was given"
    raise RuntimeError(msg)

context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
