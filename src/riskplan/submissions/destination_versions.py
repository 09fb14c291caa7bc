"""Stored versions of destinations and their reporting rules (like plan versions).

Loading a destination whose content differs from its latest stored version creates a new version,
audited with who loaded it and why; the same content again creates nothing. The destinations in force
are the latest stored version of each, else the bundled file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.store import record_change, utcnow
from riskplan.submissions.destinations import (
    Destination,
    bundled_destinations,
    canonical_json,
    destination_from_data,
    unknown_destination,
)
from riskplan.submissions.tables import DestinationVersionRow

ENTITY = "destination"


@dataclass(frozen=True)
class DestinationInForce:
    destination: Destination
    version: int | None  # None: the bundled file, never stored
    origin: str


def record_destination(
    session: Session, destination: Destination, *, who: str, source: str | None, reason: str | None
) -> tuple[int, bool]:
    """Store ``destination`` as a new version unless its latest version has the same content."""
    text = canonical_json(destination)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    latest = _latest_row(session, destination.code)
    if latest is not None and latest.content_sha256 == digest:
        return latest.version, False
    number = 1 if latest is None else latest.version + 1
    now = utcnow()
    session.add(
        DestinationVersionRow(
            code=destination.code,
            version=number,
            content_sha256=digest,
            content_json=text,
            loaded_at=now,
            loaded_by=who,
            source=source,
            reason=reason,
        )
    )
    session.flush()
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=destination.code,
        action="version created",
        changes={"version": (None if latest is None else latest.version, number), "sha256": (None, digest)},
        reason=reason,
        at=now,
    )
    return number, True


def _latest_row(session: Session, code: str) -> DestinationVersionRow | None:
    return session.scalars(
        select(DestinationVersionRow)
        .where(DestinationVersionRow.code == code)
        .order_by(DestinationVersionRow.version.desc())
        .limit(1)
    ).first()


def destinations_in_force(session: Session) -> dict[str, DestinationInForce]:
    """Every destination by code: its latest stored version, else the bundled file."""
    found = {code: DestinationInForce(d, None, "bundled file") for code, d in bundled_destinations().items()}
    codes = set(session.scalars(select(DestinationVersionRow.code).distinct()))
    for code in sorted(codes):
        row = _latest_row(session, code)
        assert row is not None
        stored = destination_from_data(json.loads(row.content_json), f"stored destination {code} v{row.version}")
        found[code] = DestinationInForce(stored, row.version, f"stored version {row.version}")
    return dict(sorted(found.items()))


def destination_in_force(session: Session, code: str) -> DestinationInForce:
    found = destinations_in_force(session)
    wanted = code.strip().upper()
    if wanted not in found:
        raise unknown_destination(code, list(found))
    return found[wanted]
