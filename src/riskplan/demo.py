"""The main job on the embedded default, as a pipeline of steps: ``riskplan demo`` / ``make demo``.

Each step takes the shared :class:`DemoContext`, does its part (sources → store → analyses →
reports) and records what it wrote. Later capabilities add their step to :data:`STEPS`.

The demo works in its own database and output folder, :func:`demo_folder` (``<data dir>/demo/``:
``riskplan-demo.db`` and ``out/``), never in the configured one, unless told otherwise
(``riskplan demo --database URL --out DIR``). Its cases are synthetic, so it refuses (nothing written)
a database that holds real cases (:func:`riskplan.cases.store.refuse_synthetic_beside_real_cases`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.plan import ExportFormat, RiskManagementPlan, current_plan, load_plan, record_plan, render_plan
from riskplan.settings import Settings, absolute_database_url, data_dir
from riskplan.store import session_scope

if TYPE_CHECKING:
    from riskplan.submissions import As2Channel, DestinationInForce


@dataclass
class DemoContext:
    settings: Settings
    engine: Engine
    console: Console
    plan: RiskManagementPlan | None = None
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def out_dir(self) -> Path:
        return self.settings.output_dir

    def wrote(self, label: str, path: Path) -> None:
        self.outputs.append((label, path.resolve()))


DEMO_DATABASE = "riskplan-demo.db"
DEMO_REASON = "demo"  # the reason the demo records with the plan versions it stores


def demo_folder() -> Path:
    """Where the demo keeps its database and outputs unless told otherwise: ``<data dir>/demo``."""
    return data_dir() / "demo"


def demo_database_url() -> str:
    """The demo's own database: ``<data dir>/demo/riskplan-demo.db``."""
    return f"sqlite:///{demo_folder() / DEMO_DATABASE}"


def demo_settings(settings: Settings, database_url: str | None = None, out: Path | None = None) -> Settings:
    """``settings`` with the demo's own database and output folder (or the ones given)."""
    folder = demo_folder()
    url = absolute_database_url(database_url, Path.cwd()) if database_url else demo_database_url()
    return settings.model_copy(update={"database_url": url, "output_dir": (out or folder / "out").absolute()})


def step_plan(ctx: DemoContext) -> None:
    """Load the bundled plan, store it as a version, and render it to HTML, Markdown and JSON."""
    plan = load_plan(ctx.settings.default_plan)
    with session_scope(ctx.engine) as session:
        version, created = record_plan(
            session, plan, who=ctx.settings.user, source=f"bundled plan {plan.name}", reason=DEMO_REASON
        )
    state = "stored as new version" if created else "unchanged, version"
    ctx.console.print(
        f"plan {plan.name}: {len(plan.safety_concerns)} safety concerns, {len(plan.studies)} studies; "
        f"{state} {version.version}"
    )
    folder = ctx.out_dir / "plan"
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in ExportFormat:
        path = folder / f"{plan.name}.{fmt.value}"
        path.write_text(render_plan(plan, fmt), encoding="utf-8")
        ctx.wrote(f"plan ({fmt.value})", path)
    ctx.plan = _plan_in_force(ctx)


def _plan_in_force(ctx: DemoContext) -> RiskManagementPlan:
    """The configured plan as in force (:func:`riskplan.plan.current_plan`): what every step uses."""
    with session_scope(ctx.engine) as session:
        return current_plan(session, ctx.settings.default_plan).plan


DEMO_CASES = 300
DEMO_SEED = 2026


def step_cases(ctx: DemoContext) -> None:
    """Create seeded synthetic UPLIZNA cases, then report counts per safety concern and the overdue list."""
    import json

    from rich.table import Table

    from riskplan.cases import concern_counts, intake, intake_context, list_cases, synthesise_cases

    plan = ctx.plan or _plan_in_force(ctx)
    icsrs = synthesise_cases(DEMO_CASES, seed=DEMO_SEED)
    with session_scope(ctx.engine) as session:
        # stored by the demo (as step_plan does; unchanged content stores nothing), so a run of this step
        # alone leaves a database the demo recognises as its own on the next run (refuse_real_work)
        record_plan(session, plan, who=ctx.settings.user, source=f"bundled plan {plan.name}", reason=DEMO_REASON)
        context = intake_context(session, plan.name, ctx.settings.user)
        outcomes = intake(
            session, icsrs, context=context, who=ctx.settings.user, reason="demo synthetic cases", synthetic=True
        )
    created = sum(o.status == "created" for o in outcomes)
    today = dt.date.today()
    with session_scope(ctx.engine) as session:
        counts = concern_counts(session, plan_name=plan.name)
        listing = list_cases(session, plan_name=plan.name)
    invalid = sum(not c.valid for c in listing)
    ctx.console.print(
        f"cases: {len(listing)} stored ({created} new this run), {invalid} invalid (kept, with reasons); all SYNTHETIC"
    )
    table = Table(title=f"Cases per safety concern ({plan.product.name}, valid cases, latest versions)")
    table.add_column("safety concern")
    table.add_column("category")
    table.add_column("cases", justify="right")
    for concern in plan.safety_concerns:
        table.add_row(concern.title, concern.category.value, str(counts.get(concern.id, 0)))
    ctx.console.print(table)
    folder = ctx.out_dir / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    summary = folder / "cases_per_concern.json"
    summary.write_text(
        json.dumps(
            {
                "as_of": today.isoformat(),
                "cases": len(listing),
                "invalid": invalid,
                "per_concern": counts,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    ctx.wrote("cases per safety concern (json)", summary)


DEMO_PERSONS = 4000


def step_studies(ctx: DemoContext) -> None:
    """Run the plan's four studies on a seeded synthetic NMOSD population (OMOP CDM) and write reports."""
    import time

    from riskplan.reports import write_study_report
    from riskplan.store import audited_transaction, utcnow
    from riskplan.studies import open_cdm, run_plan_study, synthesise_omop
    from riskplan.web import record_study_run

    plan = ctx.plan or _plan_in_force(ctx)
    cdm_dir = ctx.out_dir / "cdm"
    if not (cdm_dir / "person.parquet").is_file():
        synthesise_omop(DEMO_PERSONS, DEMO_SEED, cdm_dir)
    ctx.console.print(f"synthetic OMOP CDM: {DEMO_PERSONS:,} persons in {cdm_dir}")
    cdm = open_cdm(cdm_dir)
    for study in plan.studies:
        started = time.perf_counter()
        started_at = utcnow()
        run = run_plan_study(cdm, plan, study.id)
        files = write_study_report(run, ctx.out_dir / "studies")
        reports = {"html": files.html.read_bytes()} | ({"pdf": files.pdf.read_bytes()} if files.pdf else {})
        with audited_transaction(ctx.engine) as session:  # the web app's Studies page lists the run
            record_study_run(
                session,
                plan_name=plan.name,
                study_id=study.id,
                cdm_source=str(cdm_dir),
                started=started_at,
                finished=utcnow(),
                who=ctx.settings.user,
                sections=len(run.sections),
                files=reports,
            )
        ctx.console.print(
            f"study {study.short_name}: {len(run.sections)} analyses in {time.perf_counter() - started:.1f} s"
        )
        ctx.wrote(f"study report: {study.short_name} (html)", files.html)
        if files.pdf is not None:
            ctx.wrote(f"study report: {study.short_name} (pdf)", files.pdf)


def step_minimisation(ctx: DemoContext) -> None:
    """The demo patient's pre-infusion checklist for their latest infusion, and their patient card (PDF)."""
    from riskplan.minimisation import demo_patient_record, evaluate_infusion, write_patient_card

    plan = ctx.plan or _plan_in_force(ctx)
    record = demo_patient_record()
    latest = max((i.date for i in record.infusions or []), default=None)
    result = evaluate_infusion(record, plan, latest)
    counts = {s: sum(r.status.value == s for r in result.results) for s in ("pass", "warn", "block")}
    ctx.console.print(
        f"pre-infusion checklist for patient {result.patient_id}, infusion {result.infusion_number} on "
        f"{result.infusion_date}: {result.status.value} ({counts['pass']} pass, {counts['warn']} warn, "
        f"{counts['block']} block)"
    )
    for r in result.results:
        if r.status.value != "pass":
            ctx.console.print(f"  {r.status.value.upper()} {r.title} (SmPC {r.smpc_section}): {r.message}")
    card = write_patient_card(record, plan, ctx.out_dir / "minimisation" / f"patient-card-{result.patient_id}.pdf")
    ctx.wrote("patient card (pdf)", card)


PSUR_FROM = dt.date(2025, 11, 1)
PSUR_TO = dt.date(2026, 10, 31)  # data lock point


def step_psur(ctx: DemoContext) -> None:
    """The PSUR/PBRER for the demo interval from the stored cases, signals and the synthetic CDM's exposure."""
    from riskplan.reports import store_written_psur, write_psur

    plan = ctx.plan or _plan_in_force(ctx)
    cdm_dir = ctx.out_dir / "cdm"
    cdm = cdm_dir if (cdm_dir / "person.parquet").is_file() else None
    result = write_psur(ctx.engine, plan.name, PSUR_FROM, PSUR_TO, ctx.out_dir / "psur", cdm=cdm)
    # stored like `riskplan report psur` stores it: listed by `report list` and the web app's Reports page
    stored = store_written_psur(
        ctx.engine, result, plan.name, PSUR_FROM, PSUR_TO, cdm=cdm, exposure=None, who=ctx.settings.user
    )
    ctx.console.print(
        f"PSUR {PSUR_FROM} to {PSUR_TO} (data lock point): input checksum {result.checksum}; "
        f"stored as report {stored.id}"
    )
    for path in result.paths:
        ctx.wrote(f"PSUR ({path.suffix.lstrip('.')})", path)


DEMO_USERS = (("qppv", "qppv"), ("processor", "case processor"))
DEMO_PASSWORD = "riskplan-demo"  # demo database only


def step_web(ctx: DemoContext) -> None:
    """Demo logins for the web application, and how to start it."""
    from riskplan.web import Auth, WebSettings, parse_role, usernames

    auth = Auth(ctx.engine, WebSettings())
    with session_scope(ctx.engine) as session:
        existing = usernames(session)
        for name, role in DEMO_USERS:
            if name not in existing:
                auth.add_user(session, name, parse_role(role), DEMO_PASSWORD, who=ctx.settings.user)
    from riskplan.store import shown_url

    ctx.console.print(
        f"web application on the demo database: run `RISKPLAN_DATABASE_URL={shown_url(ctx.settings.database_url)} "
        f"RISKPLAN_OUTPUT_DIR={ctx.out_dir} riskplan serve`, then open http://127.0.0.1:8000/",
        soft_wrap=True,
    )
    for name, role in DEMO_USERS:
        ctx.console.print(f"  demo login ({role}): {name} / {DEMO_PASSWORD}")


DEMO_MISSED_SHARE = 0.03  # share of the reports owed that the demo department has not yet sent
DEMO_LATE_REASON = "demo: backlog of synthetic cases entered on the demo day"


#: The demo's own UK receiver (N.1.4) for its local gateway: riskplan ships none for the MHRA (see uk.yaml)
DEMO_UK_RECEIVER = "MHRA-DEMO-LOCAL"


def step_submissions(ctx: DemoContext) -> None:
    """Play the department's routine: send the reports owed to each destination (missing a seeded few) over
    AS2 to local gateways, record their MDNs and ACKs, then show the states per destination and the
    compliance table."""
    import json
    import random

    from rich.table import Table

    from riskplan.submissions import (
        compliance_period,
        compliance_report,
        destinations_in_force,
        due_reports,
        generate,
        state_counts,
        unsent_batches,
    )

    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    who = ctx.settings.user
    with session_scope(ctx.engine) as session:
        owed = [r.obligation for r in due_reports(session)]
        targets = list(destinations_in_force(session).values())
    per_destination = Counter(o.destination for o in owed)
    overdue = sum(1 for o in owed if o.due is not None and o.due < today)
    shares = ", ".join(f"{d} {n}" for d, n in sorted(per_destination.items()))
    ctx.console.print(
        f"reports owed as of {today}: {len(owed)} ({shares}), "
        f"{overdue} overdue: `riskplan submission due` lists them with the rule that decided each"
    )
    rng = random.Random(DEMO_SEED)
    chosen = [o for o in owed if rng.random() >= DEMO_MISSED_SHARE]
    folder = ctx.out_dir / "submissions"
    with session_scope(ctx.engine) as session:
        for target in targets:
            # the demo's cases are synthetic: sent on purpose, each batch marked RP-SYNTHETIC-... (N.1.2)
            made = generate(
                session,
                target,
                chosen,
                sender_id=ctx.settings.e2b_sender_id,
                who=who,
                now=now,
                late_reason=DEMO_LATE_REASON,
                allow_synthetic=True,
                max_bytes=ctx.settings.e2b_max_file_bytes,
                # the MHRA's N.1.4 is not shipped (a required setting); the demo's UK gateway is local
                receiver_ids={
                    "UK": DEMO_UK_RECEIVER,
                    **{k.upper(): v for k, v in ctx.settings.e2b_receiver_ids.items()},
                },
            )
            if made is not None and made.refused:  # stopped before sending by the destination's rules: still owed
                reasons = Counter(r.reasons[0] for r in made.refused)
                ctx.console.print(
                    f"{target.destination.code}: {len(made.refused)} report(s) not sent, still owed; "
                    + "; ".join(f"{n} x {why}" for why, n in reasons.most_common(3)),
                    markup=False,
                )
        pending = {t.destination.code: unsent_batches(session, t.destination.code) for t in targets}
    accepted, rejected = _send_over_as2(ctx, [t for t in targets if pending[t.destination.code]], pending, now)
    ctx.console.print(f"acknowledgments recorded: {accepted} report(s) accepted, {rejected} rejected")
    first, last = compliance_period(today)
    with session_scope(ctx.engine) as session:
        counts = state_counts(session)
        report = compliance_report(session, first, last, today)
    states = Table(title="Submissions per destination and state")
    states.add_column("destination")
    states.add_column("state")
    states.add_column("reports", justify="right")
    for (code, state), n in counts.items():
        states.add_row(code, state, str(n))
    ctx.console.print(states)
    table = Table(title=f"Reporting compliance, expedited reports due {first} to {last}")
    for col in ("destination", "month", "due", "on time", "late", "pending", "% on time"):
        table.add_column(col, justify="right" if col not in ("destination", "month") else "left")
    for m in report.months:
        share = ("pending" if m.pending else "-") if m.share_on_time is None else f"{100 * m.share_on_time:.0f}%"
        table.add_row(m.destination, m.month, str(m.due), str(m.on_time), str(m.late), str(m.pending), share)
    ctx.console.print(table)
    ctx.console.print(
        f"late: {len(report.late)} (the demo's cases were all entered today, so what fell due before today is "
        f"late, with the reason recorded); days late and reasons: `riskplan submission compliance --from {first} "
        f"--to {last}`; due in the next 7 days: {len(report.due_soon)}"
    )
    summary = folder / "submissions_summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(
        json.dumps(
            {
                "as_of": today.isoformat(),
                "synthetic": True,
                "owed_before": len(owed),
                "states": [{"destination": d, "state": st, "reports": n} for (d, st), n in counts.items()],
                "compliance": [
                    {
                        "destination": m.destination,
                        "month": m.month,
                        "due": m.due,
                        "on_time": m.on_time,
                        "late": m.late,
                        "pending": m.pending,
                    }
                    for m in report.months
                ],
                "late": len(report.late),
                "due_next_7_days": len(report.due_soon),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    ctx.wrote("submissions and compliance (json)", summary)


# The business rules each local gateway applies after the ICH schema (riskplan gateway serve --profile).
DEMO_GATEWAY_PROFILES = {"EU": "eu", "US": "fda"}  # the others (MHRA, the licensing partner): ICH schema only
DEMO_ACK_WAIT = 120.0  # seconds, in all, for the gateways' ACKs


def _send_over_as2(
    ctx: DemoContext, targets: list[DestinationInForce], pending: dict[str, list[str]], now: dt.datetime
) -> tuple[int, int]:
    """What `riskplan submission send --channel as2 --wait-ack` does, to one local gateway per destination
    served in this process (its state under <out>/submissions/gateways/<CODE>), stopped afterwards:
    each batch posted and its signed MDN recorded (delivered), then its ICH ACK recorded (accepted /
    rejected). Returns the reports accepted and rejected."""
    from contextlib import ExitStack

    from riskplan.cases import get_schema
    from riskplan.settings import GatewayConnection
    from riskplan.submissions import as2_channel, fetch_and_record_ack, gateway_in_thread, message_key, send_batch

    who = ctx.settings.user
    accepted = rejected = 0
    get_schema()  # the gateways check each file against the ICH schema: compiled once, before the first
    with ExitStack() as running:
        delivered: list[tuple[str, str, As2Channel, str]] = []  # (destination, batch, channel, Message-ID)
        for target in targets:
            code = target.destination.code
            profile = DEMO_GATEWAY_PROFILES.get(code, "ich")
            state_dir = ctx.out_dir / "submissions" / "gateways" / code
            gateway, url = running.enter_context(gateway_in_thread(state_dir, as2_id=f"LOCAL-{code}", profile=profile))
            ctx.console.print(
                f"{code}: local AS2 gateway {gateway.as2_id} (riskplan gateway, in this process) on {url}, "
                f"acting as {target.destination.name} with the {profile} business rules; state in {state_dir}",
                markup=False,
            )
            channel = as2_channel(code, GatewayConnection(url=url, local_gateway=state_dir))
            received = gateway.files.folder("received")
            for batch_id in pending[code]:
                outcome = send_batch(ctx.engine, batch_id, target.destination, channel, who=who, now=now)
                if not outcome.delivered:
                    ctx.console.print(f"{code}: batch {batch_id} not delivered: {outcome.detail}", markup=False)
                    continue
                file = received / f"{message_key(outcome.message_id)}.xml"
                delivered.append((code, batch_id, channel, outcome.message_id))
                ctx.wrote(f"E2B(R3) batch to {code} as the gateway received it (SYNTHETIC)", file)
        deadline = time.monotonic() + DEMO_ACK_WAIT
        for code, batch_id, channel, message_id in delivered:
            ack = fetch_and_record_ack(
                ctx.engine, channel, message_id, who=who, wait=max(0, deadline - time.monotonic())
            )
            if ack is None:
                ctx.console.print(f"{code}: batch {batch_id}: MDN processed, no ACK within the wait", markup=False)
                continue
            accepted += len(ack.accepted)
            rejected += len(ack.rejected)
            ctx.console.print(
                f"{code}: batch {batch_id} sent over AS2 as {message_id}: signed MDN processed (delivered); "
                f"ACK {ack.ack.code}: {len(ack.accepted)} accepted, {len(ack.rejected)} rejected",
                markup=False,
            )
            for text, n in Counter(text or "(no error text)" for _, text in ack.rejected).most_common(3):
                ctx.console.print(f"  rejected {n} x: {text}", markup=False)
    return accepted, rejected


def step_signals(ctx: DemoContext) -> None:
    """Disproportionality over the demo cases plus a synthetic spontaneous database; signals recorded."""
    from riskplan.signals import step_signals as run

    run(ctx)


Step = Callable[[DemoContext], None]
STEPS: list[tuple[str, Step]] = [
    ("plan", step_plan),
    ("cases", step_cases),
    ("submissions", step_submissions),
    ("signals", step_signals),
    ("studies", step_studies),
    ("minimisation", step_minimisation),
    ("psur", step_psur),
    ("web", step_web),
]


def run_demo(ctx: DemoContext, steps: list[tuple[str, Step]] | None = None) -> list[tuple[str, Path]]:
    """Run the steps; refused before anything is written when the database holds real cases, or (a database
    other than the demo's own) any other real work."""
    from riskplan.cases import refuse_synthetic_beside_real_cases

    with session_scope(ctx.engine) as session:
        refuse_synthetic_beside_real_cases(session)
        if ctx.settings.database_url != demo_database_url():
            refuse_real_work(session)
    for name, step in steps or STEPS:
        ctx.console.rule(f"[bold]{name}")
        step(ctx)
    return ctx.outputs


def refuse_real_work(session: Session) -> None:
    """A database given to the demo (``--database``) that holds work the demo did not make is refused.

    The demo stores the bundled plan as a new version, demo users with a published password, and synthetic
    cases: on a database with real work it would put an unapproved version on top of an approved one and
    open accounts nobody owns (GVP Module V: the plan's versions are the record; 21 CFR 11.300). Real cases
    are refused by :func:`riskplan.cases.store.refuse_synthetic_beside_real_cases`.
    """
    from sqlalchemy import func, select

    from riskplan.plan import list_versions
    from riskplan.store import ElectronicSignatureRow
    from riskplan.web import usernames

    found: list[str] = []
    versions = [v for v in list_versions(session) if v.reason != DEMO_REASON]
    if versions:
        found.append(
            f"{len(versions)} plan version(s) the demo did not store, e.g. {versions[0].plan_name} "
            f"v{versions[0].version} loaded by {versions[0].loaded_by}"
        )
    users = sorted(usernames(session) - {name for name, _ in DEMO_USERS})
    if users:
        found.append(f"{len(users)} user account(s), e.g. {users[0]}")
    signed = int(session.scalar(select(func.count()).select_from(ElectronicSignatureRow)) or 0)
    if signed:
        found.append(f"{signed} electronic signature(s)")
    if found:
        url = session.get_bind().engine.url.render_as_string(hide_password=True)
        raise UserInputError(
            f"database {url} holds real work: {'; '.join(found)}. The demo never writes into it, nothing "
            "written. Run `riskplan demo` without --database (it has its own database) or give a new, empty one."
        )
