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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.render import ExportFormat, render_plan
from riskplan.plan.versions import record_plan
from riskplan.settings import Settings, absolute_database_url, data_dir
from riskplan.store.db import session_scope


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
    ctx.plan = plan


DEMO_CASES = 300
DEMO_SEED = 2026


def step_cases(ctx: DemoContext) -> None:
    """Create seeded synthetic UPLIZNA cases, then report counts per safety concern and the overdue list."""
    import json

    from rich.table import Table

    from riskplan.cases.intake import intake, intake_context
    from riskplan.cases.store import concern_counts, due_cases, list_cases
    from riskplan.cases.synth import synthesise_cases

    plan = ctx.plan or load_plan(ctx.settings.default_plan)
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
    submitted = _submit_past_due(ctx, today)
    with session_scope(ctx.engine) as session:
        counts = concern_counts(session, plan_name=plan.name)
        due = due_cases(session, today)
        listing = list_cases(session, plan_name=plan.name)
    invalid = sum(not c.valid for c in listing)
    ctx.console.print(
        f"cases: {len(listing)} stored ({created} new this run), {invalid} invalid (kept, with reasons); "
        f"{submitted} exported as E2B(R3) this run"
    )
    table = Table(title=f"Cases per safety concern ({plan.product.name}, valid cases, latest versions)")
    table.add_column("safety concern")
    table.add_column("category")
    table.add_column("cases", justify="right")
    for concern in plan.safety_concerns:
        table.add_row(concern.title, concern.category.value, str(counts.get(concern.id, 0)))
    ctx.console.print(table)
    overdue = [d for d in due if d.overdue]
    ctx.console.print(f"reporting clock (GVP VI.C.3) as of {today}: {len(due)} open, {len(overdue)} overdue")
    for d in overdue[:15]:
        kind = "15-day" if d.serious else "90-day"
        ctx.console.print(f"  OVERDUE {d.case_number} {d.worldwide_id} {kind}, due {d.due} ({-d.days_left} days late)")
    if len(overdue) > 15:
        ctx.console.print(f"  ... and {len(overdue) - 15} more: riskplan case due")
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
                "open": len(due),
                "overdue": [d.worldwide_id for d in overdue],
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

    from riskplan.reports.study_report import write_study_report
    from riskplan.studies import open_cdm, synthesise_omop
    from riskplan.studies.plan_studies import run_plan_study

    plan = ctx.plan or load_plan(ctx.settings.default_plan)
    cdm_dir = ctx.out_dir / "cdm"
    if not (cdm_dir / "person.parquet").is_file():
        synthesise_omop(DEMO_PERSONS, DEMO_SEED, cdm_dir)
    ctx.console.print(f"synthetic OMOP CDM: {DEMO_PERSONS:,} persons in {cdm_dir}")
    cdm = open_cdm(cdm_dir)
    for study in plan.studies:
        started = time.perf_counter()
        run = run_plan_study(cdm, plan, study.id)
        files = write_study_report(run, ctx.out_dir / "studies")
        ctx.console.print(
            f"study {study.short_name}: {len(run.sections)} analyses in {time.perf_counter() - started:.1f} s"
        )
        ctx.wrote(f"study report: {study.short_name} (html)", files.html)
        if files.pdf is not None:
            ctx.wrote(f"study report: {study.short_name} (pdf)", files.pdf)


def step_minimisation(ctx: DemoContext) -> None:
    """The demo patient's pre-infusion checklist for their latest infusion, and their patient card (PDF)."""
    from riskplan.minimisation.card import write_patient_card
    from riskplan.minimisation.checklist import evaluate_infusion
    from riskplan.minimisation.record import demo_patient_record

    plan = ctx.plan or load_plan(ctx.settings.default_plan)
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
    from riskplan.reports.psur import write_psur

    plan = ctx.plan or load_plan(ctx.settings.default_plan)
    cdm_dir = ctx.out_dir / "cdm"
    result = write_psur(
        ctx.engine,
        plan.name,
        PSUR_FROM,
        PSUR_TO,
        ctx.out_dir / "psur",
        cdm=cdm_dir if (cdm_dir / "person.parquet").is_file() else None,
    )
    ctx.console.print(f"PSUR {PSUR_FROM} to {PSUR_TO} (data lock point): input checksum {result.checksum}")
    for path in result.paths:
        ctx.wrote(f"PSUR ({path.suffix.lstrip('.')})", path)


DEMO_USERS = (("qppv", "qppv"), ("processor", "case processor"))
DEMO_PASSWORD = "riskplan-demo"  # demo database only


def step_web(ctx: DemoContext) -> None:
    """Demo logins for the web application, and how to start it."""
    from riskplan.web.auth import Auth, usernames
    from riskplan.web.config import WebSettings
    from riskplan.web.roles import parse_role

    auth = Auth(ctx.engine, WebSettings())
    with session_scope(ctx.engine) as session:
        existing = usernames(session)
        for name, role in DEMO_USERS:
            if name not in existing:
                auth.add_user(session, name, parse_role(role), DEMO_PASSWORD, who=ctx.settings.user)
    from riskplan.store.faults import shown_url

    ctx.console.print(
        f"web application on the demo database: run `RISKPLAN_DATABASE_URL={shown_url(ctx.settings.database_url)} "
        f"RISKPLAN_OUTPUT_DIR={ctx.out_dir} riskplan serve`, then open http://127.0.0.1:8000/",
        soft_wrap=True,
    )
    for name, role in DEMO_USERS:
        ctx.console.print(f"  demo login ({role}): {name} / {DEMO_PASSWORD}")


DEMO_MISSED_SHARE = 0.03  # share of past-due cases the demo department has not yet sent


def _submit_past_due(ctx: DemoContext, today: dt.date) -> int:
    """Play the department's routine: send past-due cases as one E2B(R3) batch, missing a seeded few."""
    import hashlib
    import random

    from riskplan.cases.e2b import E2bError, export_icsrs
    from riskplan.cases.store import due_cases, latest_icsrs, record_submission

    rng = random.Random(DEMO_SEED)
    with session_scope(ctx.engine) as session:
        past_due = [d for d in due_cases(session, today) if d.overdue]
        chosen = [d for d in past_due if rng.random() >= DEMO_MISSED_SHARE]
        if not chosen:
            return 0
        cases = latest_icsrs(session, [str(d.case_id) for d in chosen])
        now = dt.datetime.now(dt.UTC)
        batch_id = f"RP-DEMO-{now:%Y%m%d%H%M%S}"
        try:
            data = export_icsrs(
                [icsr for _, _, icsr in cases],
                batch_id=batch_id,
                sender_id=ctx.settings.e2b_sender_id,
                receiver_id=ctx.settings.e2b_receiver_id,
                created=now,
            )
        except E2bError as exc:
            ctx.console.print(f"E2B(R3) export skipped: {exc}")
            return 0
        folder = ctx.out_dir / "e2b"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{batch_id}.xml"
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        for case_id, version, _ in cases:
            record_submission(
                session,
                case_id,
                version,
                batch_id=batch_id,
                file_name=target.name,
                sha256=digest,
                who=ctx.settings.user,
            )
    ctx.wrote("E2B(R3) batch of past-due cases", target)
    return len(cases)


def step_signals(ctx: DemoContext) -> None:
    """Disproportionality over the demo cases plus a synthetic spontaneous database; signals recorded."""
    from riskplan.signals.demo import step_signals as run

    run(ctx)


Step = Callable[[DemoContext], None]
STEPS: list[tuple[str, Step]] = [
    ("plan", step_plan),
    ("cases", step_cases),
    ("signals", step_signals),
    ("studies", step_studies),
    ("minimisation", step_minimisation),
    ("psur", step_psur),
    ("web", step_web),
]


def run_demo(ctx: DemoContext, steps: list[tuple[str, Step]] | None = None) -> list[tuple[str, Path]]:
    """Run the steps; refused before anything is written when the database holds real cases, or (a database
    other than the demo's own) any other real work."""
    from riskplan.cases.store import refuse_synthetic_beside_real_cases

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

    from riskplan.plan.versions import list_versions
    from riskplan.store.signatures import ElectronicSignatureRow
    from riskplan.web.auth import usernames

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
