"""A manual export of cases as ICH E2B(R3) batch files: one use case for the CLI (``riskplan case
export``) and the web application (the Cases page, ``POST /api/cases/export``).

An export is a copy (for a partner, an inspection, another system): each case version in a file is
recorded in the case's audit trail with the file's SHA-256 (21 CFR 11.10(e)), and it does not count as a
submission (reports owed to an authority are the submissions' records).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.cases.e2b import export_batches, export_icsrs
from riskplan.cases.narratives import with_stored_narratives
from riskplan.cases.store import latest_icsrs, record_export, refuse_synthetic_export


@dataclass(frozen=True)
class ExportFile:
    """One batch file written by an export, and the case versions it holds."""

    batch_id: str
    file_name: str
    data: bytes
    cases: tuple[tuple[int, int], ...]  # (case id, version)


def new_batch_id(now: dt.datetime) -> str:
    """``RP-<time to the microsecond>-<random>``: two exports, even from two processes in one second, never
    share an id."""
    return f"RP-{now:%Y%m%d%H%M%S%f}-{secrets.token_hex(3).upper()}"


def export_cases(
    session: Session,
    refs: Sequence[str],
    *,
    sender_id: str,
    receiver_id: str,
    now: dt.datetime,
    who: str,
    max_bytes: int | None = None,
    allow_synthetic: bool = False,
) -> list[ExportFile]:
    """The latest version of each case in ``refs`` as schema-valid E2B(R3) batch files, each recorded in its
    cases' audit trail, which says where each case's H.1 narrative came from (:func:`with_stored_narratives`).
    ``max_bytes``: split into files of at most that size (an importer's file-size limit); None: one file.
    Synthetic cases are refused unless ``allow_synthetic`` (their batch id then says SYNTHETIC). An
    :class:`~riskplan.cases.e2b.E2bError` (a case fails the schema or the business rules) leaves nothing
    recorded."""
    batch_id = new_batch_id(now)
    chosen = latest_icsrs(session, refs, with_causality=True)  # G.k.9.i.2.r: the recorded pair assessments
    if refuse_synthetic_export(session, [case for case, _, _ in chosen], allowed=allow_synthetic):
        batch_id = batch_id.replace("RP-", "RP-SYNTHETIC-", 1)
    # ICH E2B(R3) H.1: the narrative written here for the version (English), else the one received
    narrated = with_stored_narratives(session, chosen)
    icsrs = [icsr for icsr, _ in narrated]
    if max_bytes is None:
        data = export_icsrs(icsrs, batch_id=batch_id, sender_id=sender_id, receiver_id=receiver_id, created=now)
        batches = [(batch_id, data, tuple(range(len(chosen))))]
    else:
        split = export_batches(
            icsrs, batch_id=batch_id, sender_id=sender_id, receiver_id=receiver_id, created=now, max_bytes=max_bytes
        )
        batches = [(b.batch_id, b.data, tuple(b.indexes)) for b in split]
    files = []
    for file_batch, data, indexes in batches:
        file_name = f"{file_batch}.xml"
        digest = hashlib.sha256(data).hexdigest()
        for index in indexes:
            case_id, version, _ = chosen[index]
            record_export(
                session,
                case_id,
                version,
                batch_id=file_batch,
                file_name=file_name,
                sha256=digest,
                who=who,
                narrative=narrated[index][1],
            )
        files.append(ExportFile(file_batch, file_name, data, tuple(chosen[i][:2] for i in indexes)))
    return files
