"""Alembic environment: the engine comes from the caller (see runner.py)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import pms_core.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from pms_core.db import default_url, make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or default_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
