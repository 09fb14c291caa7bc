"""The whole database schema: every folder's tables on the store's metadata.

Each folder's tables join :data:`riskplan.store.Base`'s metadata when the folder is imported, and each
folder keeps its own Alembic branch (``<folder>/migrations/versions``, found by
:func:`riskplan.store.migrate.version_locations`). Upgrading needs no tables; comparing the migrations
with the table models (Alembic's autogenerate, the schema tests) needs them all: :func:`metadata`.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import riskplan.cases
import riskplan.plan
import riskplan.reports
import riskplan.signals
import riskplan.store
import riskplan.submissions
import riskplan.terms
import riskplan.web

#: The folders that own tables, in layer order.
TABLE_FOLDERS = (
    riskplan.store,
    riskplan.plan,
    riskplan.terms,
    riskplan.cases,
    riskplan.submissions,
    riskplan.signals,
    riskplan.reports,
    riskplan.web,
)


def metadata() -> MetaData:
    """The metadata holding every table of every folder (the folders are imported with this module)."""
    return riskplan.store.Base.metadata
