"""Alembic environment: runs against the engine handed over in ``config.attributes['engine']``.

The tables compared by autogenerate are those registered on the store's metadata: call
:func:`riskplan.schema.metadata` first (it imports every folder), or hand a metadata over in
``config.attributes['metadata']``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from riskplan.store.db import Base

config = context.config
target_metadata = config.attributes.get("metadata", Base.metadata)


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        from riskplan.settings import get_settings
        from riskplan.store.db import make_engine

        engine = make_engine(get_settings().database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
