"""Compliance over many cases: the report that reads only the cases which can fall due in its period gives
the same figures as the one that decides what every case owes (PSUR appendix 20.4, submission compliance)."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from case_factory import concomitant, inebilizumab, make_icsr
from conftest import shared_file
from riskplan.cases.codes import NullificationCode, Outcome, Qualification, SenderType
from riskplan.cases.model import Hl7Timestamp, Icsr, PrimarySource, Reaction, Sender
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.plan.catalogue import load_plan
from riskplan.store.db import session_scope
from riskplan.submissions import (
    ManualTransport,
    apply_ack,
    compliance,
    compliance_counts,
    compliance_report,
    destination_in_force,
    destinations_in_force,
    generate,
    list_submissions,
    owed_now,
    record_late_reason,
    transmit,
)
from riskplan.terms.coding import OpenTermList

D = dt.date
COUNTRIES = ("DE", "FR", "GB", "US", "JP", "BR")


def ack_bytes(batch_id: str, message_id: str) -> bytes:
    """FDA's positive example ACK re-addressed to a batch and report sent from here."""
    text = shared_file("standards", "e2b_r3", "examples", "fda_R3ack-positive.xml").read_text(encoding="utf-8")
    text = re.sub(r'(<targetBatch>\s*<id extension=")[^"]*"', rf'\g<1>{batch_id}"', text)
    text = re.sub(r'(<targetMessage>\s*<id extension=")[^"]*"', rf'\g<1>{message_id}"', text)
    return text.encode("utf-8")


def _icsr(wid: str, day: dt.date, country: str, serious: bool, follow_up: int = 0) -> Icsr:
    received = f"{day:%Y%m%d}"
    reaction = Reaction(
        verbatim_term="pneumonia" if serious else "headache",
        verbatim_language="eng",
        hospitalisation=True if serious else None,
        start_date=Hl7Timestamp(received),
        outcome=Outcome.RECOVERING,
    )
    reporter = PrimarySource(
        country=country,
        qualification=Qualification.PHYSICIAN,
        family_name="Weber",
        primary_for_regulatory_purposes=True,
    )
    drugs = (inebilizumab("20250101"), concomitant("Imurel", "azathioprine"))
    icsr = make_icsr(wid, received=received, reporter=reporter, reactions=(reaction,), drugs=drugs)
    icsr = icsr.model_copy(
        update={
            "created": Hl7Timestamp(f"{received}101500+0000"),
            "sender": Sender(
                sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Riskplan Pharma", country="DE"
            ),
            "narrative": "A 67-year-old woman on inebilizumab; she is recovering.",
        }
    )
    if follow_up:
        icsr = icsr.model_copy(
            update={"most_recent_info": Hl7Timestamp(f"{day + dt.timedelta(days=follow_up):%Y%m%d}")}
        )
    return icsr


def _next_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)


def _store_cases_sent_and_followed_up(engine: Engine, tmp_path: Path) -> None:
    """240 cases received over 14 months; half reported to the EU and the partner (the EU acknowledges: on time
    or late), then follow-ups on a third of them: significant ones, downgrades and nullifications."""
    plan = load_plan("uplizna")
    processor = CaseProcessor(plan, OpenTermList(plan))
    rng = random.Random(15)
    sent_at = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)
    first = []
    for i in range(240):  # cases received over 14 months
        day = D(2025, 6, 1) + dt.timedelta(days=rng.randrange(0, 425))
        wid = f"{COUNTRIES[i % 6]}-RPBENCH-2026-{i:06d}"
        first.append((wid, day, COUNTRIES[i % 6], rng.random() < 0.4))
    with session_scope(engine) as s:
        for w, d, c, ser in first:
            case = processor.assess(_icsr(w, d, c, ser))
            store_cases(s, [case], plan_name="uplizna", plan_version=None, who="cp1", now=_next_day(d))
    # half the cases reported to the EU and the partner, some acknowledged (on time or late), then
    # follow-ups (significant: now serious), downgrades and nullifications on some of them
    transport = ManualTransport(tmp_path)
    for code in ("EU", "PARTNER"):
        with session_scope(engine) as s:
            target = destination_in_force(s, code)
            owed = [
                o for o in owed_now(s, [target]) if o.case_id % 2 == 0 and o.day_zero and o.day_zero < sent_at.date()
            ]
            batch = generate(s, target, owed, sender_id="RISKPLAN", who="cp1", now=sent_at)
            assert batch is not None and batch.reports > 10, batch
        with session_scope(engine) as s:
            transmit(s, batch.batch_id, target.destination, transport, who="cp1", now=sent_at)
        if code == "EU":
            with session_scope(engine) as s:
                message = list_submissions(s)[0].message_id
                apply_ack(s, ack_bytes(batch.batch_id, message), "ack", who="cp1", now=sent_at + dt.timedelta(days=3))
    later = []
    for k, (wid, day, country, serious) in enumerate(first[::3]):
        follow = _icsr(wid, day, country, not serious if k % 4 else serious, follow_up=20 + k)
        if k % 7 == 0:
            follow = follow.model_copy(
                update={"nullification": NullificationCode.NULLIFICATION, "nullification_reason": "duplicate"}
            )
        later.append((processor.assess(follow), _next_day(day + dt.timedelta(days=20 + k))))
    with session_scope(engine) as s:
        for case, when in later:
            store_cases(s, [case], plan_name="uplizna", plan_version=None, who="cp1", now=when)


PERIODS = (  # (from, to, as of)
    (D(2025, 6, 1), D(2026, 6, 30), D(2026, 6, 30)),
    (D(2026, 1, 1), D(2026, 3, 31), D(2026, 3, 31)),
    (D(2026, 2, 1), D(2026, 2, 28), D(2026, 2, 20)),
    (D(2025, 9, 1), D(2025, 12, 31), D(2026, 4, 15)),
    (D(2026, 4, 1), D(2026, 9, 30), D(2026, 4, 10)),
)


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_compliance_of_a_period_and_its_counts_are_those_of_the_reports_owed_and_sent(
    engine: Engine, tmp_path: Path
) -> None:
    """The compliance of a period, which reads only the cases that can have a report due in it, is the compliance
    over every case owed, restricted to the period (one store for both checks: building it is the cost).

    The PSUR's appendix 20.4 counts without listing the reports: per destination and month the same due, on
    time, late and pending as the report that lists every one of them, and the same late reports with a reason.
    The store holds cases never sent (one version: counted grouped), sent and acknowledged on time or late, sent
    and not yet acknowledged, followed up (significant, downgraded, nullified), and periods with reports not yet
    due."""
    _store_cases_sent_and_followed_up(engine, tmp_path)
    if engine.dialect.name == "sqlite":  # over every case owed: on SQLite only, as before (7 s more on PostgreSQL)
        with session_scope(engine) as s:
            everything = owed_now(s, list(destinations_in_force(s).values()), include_periodic=True)
            assert {o.report for o in everything} >= {"initial", "follow-up"}
            assert {o.destination for o in everything} >= {"EU", "US", "UK", "PARTNER"}
            for start, end, today in PERIODS:
                old = compliance(s, start, end, today, everything)
                new = compliance_report(s, start, end, today)
                assert new == old, (start, end, today)
                assert sum(m.due for m in new.months) > 0
    with session_scope(engine) as s:
        for sub in list_submissions(s)[::3]:  # a reason recorded for some reports sent (on time or late)
            record_late_reason(s, str(sub.id), "the partner forwarded it late", who="cp1")
    seen: set[str] = set()
    with_reason = 0
    with session_scope(engine) as s:
        for start, end, today in PERIODS:
            listed = compliance_report(s, start, end, today)
            counted = compliance_counts(s, start, end, today)
            assert counted.months == listed.months, (start, end, today)
            assert counted.late_with_reason == sum(1 for x in listed.late if x.reason)
            with_reason += counted.late_with_reason
            of_plan = compliance_counts(s, start, end, today, plan_name="uplizna")
            assert of_plan.months == counted.months  # every case is of this plan
            assert compliance_counts(s, start, end, today, plan_name="other").months == ()
            for m in listed.months:
                seen |= {k for k, n in (("on time", m.on_time), ("late", m.late), ("pending", m.pending)) if n}
    assert seen == {"on time", "late", "pending"}
    assert with_reason > 0
