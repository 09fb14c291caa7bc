"""submissions: the E2B(R3) files ``case export`` recorded as sent (icsr_submission) become manual submissions to EU

Before submissions/, ``riskplan case export`` recorded each exported case version in ``icsr_submission``
and one EU-style clock (GVP VI.C.3) per case counted it as submitted. What is owed and sent now lives in
the submissions' records alone, so each old row is copied here as what it was: a report to EudraVigilance
(the old export's receiver, EVHUMAN) written as a file for a manual upload, state ``sent`` (the file was
handed over; no MDN, no ACK recorded). Without the copy, ``submission due`` would list those versions as
owed again and ``submission send`` would report them a second time.

* one ``submission_batch`` per old batch number (N.1.2), channel ``manual``, with the file name and the
  SHA-256 the export recorded; the file itself was never stored, so ``content`` is empty;
* one ``submission`` per old row: its N.2.r.1 is the version's C.1.1 (what the old export wrote as the
  message number, so an ACK imported later still matches), else ``<batch>-v<version id>``; due date and
  day 0 from the case version's stored clock;
* a version that already has a submission to EU is not copied twice; ``icsr_submission`` itself is left
  as it was (read-only history), so the downgrade only removes the copies.

Revision ID: submissions_0003
Revises: submissions_0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "submissions_0003"
down_revision: str | Sequence[str] | None = "submissions_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DESTINATION = "EU"
CHANNEL = "manual"
RULE = "GVP VI.C.3 (case export, before submissions)"
LEGACY = "legacy: recorded by `riskplan case export`"


def upgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    old = sa.Table("icsr_submission", meta, autoload_with=bind)
    version = sa.Table("icsr_case_version", meta, autoload_with=bind)
    case = sa.Table("icsr_case", meta, autoload_with=bind)
    batch = sa.Table("submission_batch", meta, autoload_with=bind)
    submission = sa.Table("submission", meta, autoload_with=bind)
    rows = bind.execute(
        sa.select(
            old.c.case_version_id,
            old.c.batch_id,
            old.c.file_name,
            old.c.sha256,
            old.c.submitted_at,
            old.c.submitted_by,
            version.c.case_id,
            version.c.version,
            version.c.sender_report_id,
            version.c.day_zero,
            version.c.due,
            case.c.worldwide_id,
        )
        .join(version, version.c.id == old.c.case_version_id)
        .join(case, case.c.id == version.c.case_id)
        .order_by(old.c.submitted_at, old.c.id)
    ).all()
    if not rows:
        return
    done = {
        v
        for (v,) in bind.execute(sa.select(submission.c.case_version_id).where(submission.c.destination == DESTINATION))
    }
    batches = {b for (b,) in bind.execute(sa.select(batch.c.batch_id))}
    messages = {m for (m,) in bind.execute(sa.select(submission.c.message_id))}
    reported_cases = {
        c for (c,) in bind.execute(sa.select(submission.c.case_id).where(submission.c.destination == DESTINATION))
    }
    for r in rows:
        if r.case_version_id in done:
            continue
        done.add(r.case_version_id)
        if r.batch_id not in batches:
            batches.add(r.batch_id)
            bind.execute(
                batch.insert().values(
                    batch_id=r.batch_id,
                    destination=DESTINATION,
                    file_name=r.file_name,
                    sha256=r.sha256,
                    content="",
                    created_at=r.submitted_at,
                    created_by=r.submitted_by,
                    channel=CHANNEL,
                    mdn_status="none",
                    location=f"{LEGACY} as {r.file_name}; the file was not stored",
                    sent_at=r.submitted_at,
                )
            )
        message = r.sender_report_id
        if not message or message in messages:
            message = f"{r.batch_id}-v{r.case_version_id}"
        messages.add(message)
        bind.execute(
            submission.insert().values(
                case_version_id=r.case_version_id,
                case_id=r.case_id,
                worldwide_id=r.worldwide_id,
                version=r.version,
                destination=DESTINATION,
                destination_version=None,
                attempt=1,
                kind="expedited",
                report="follow-up" if r.case_id in reported_cases else "initial",
                rule=RULE,
                day_zero=r.day_zero,
                due=r.due,
                state="sent",
                batch_id=r.batch_id,
                message_id=message,
                generated_at=r.submitted_at,
                sent_at=r.submitted_at,
            )
        )
        reported_cases.add(r.case_id)


def downgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    batch = sa.Table("submission_batch", meta, autoload_with=bind)
    submission = sa.Table("submission", meta, autoload_with=bind)
    legacy = sa.select(batch.c.batch_id).where(batch.c.location.like(f"{LEGACY}%"))
    bind.execute(submission.delete().where(submission.c.batch_id.in_(legacy), submission.c.rule == RULE))
    bind.execute(batch.delete().where(batch.c.location.like(f"{LEGACY}%")))
