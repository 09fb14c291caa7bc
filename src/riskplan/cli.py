"""The ``riskplan`` command line: ``riskplan <group> <command>``."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer

from riskplan import __version__
from riskplan.cli_support import console, database, user_errors
from riskplan.errors import UserInputError
from riskplan.settings import get_settings

# Groups: (name, module, Typer attribute). Each module is imported only when its group is run, so a
# command starts without loading every folder's dependencies.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("plan", "riskplan.plan.cli", "app"),
    ("terms", "riskplan.terms.cli", "app"),
    ("case", "riskplan.cases.cli", "app"),
    ("signal", "riskplan.signals.cli", "app"),
    ("study", "riskplan.studies.cli", "app"),
    ("check", "riskplan.minimisation.cli", "app"),
    ("report", "riskplan.reports.cli", "app"),
    ("user", "riskplan.web.cli", "user_app"),
    ("audit", "riskplan.store.cli", "app"),
)
# ``riskplan synth <kind>``: (command, module, function).
SYNTH_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("cases", "riskplan.cases.cli", "synth_cases"),
    ("spontaneous", "riskplan.signals.cli", "synth_spontaneous_command"),
    ("omop", "riskplan.studies.cli", "synth_omop"),
)

db_app = typer.Typer(help="The database: create and upgrade its tables.", no_args_is_help=True)


def build_app(only: str | None = None) -> typer.Typer:
    """The command line; with ``only``, just that group is loaded (the others still list in --help)."""
    root = typer.Typer(
        help="riskplan: an EU Risk Management Plan run as software (GVP Modules V, VI, VII, IX, XVI).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    root.command()(demo)
    root.command()(version)
    root.command()(serve)
    root.add_typer(db_app, name="db")
    for name, module, attr in GROUPS:
        if only is None or only == name:
            group = getattr(importlib.import_module(module), attr)
            if name == "plan":
                _add_plan_summary(group)
            root.add_typer(group, name=name)
        else:
            root.add_typer(typer.Typer(help=_GROUP_HELP.get(name, "")), name=name)
    synth = typer.Typer(help="Synthetic data for demos, tests and benchmarks (seeded).", no_args_is_help=True)
    if only is None or only == "synth":
        for command, module, function in SYNTH_COMMANDS:
            synth.command(command)(getattr(importlib.import_module(module), function))
    root.add_typer(synth, name="synth")
    return root


def _add_plan_summary(plan_app: typer.Typer) -> None:
    """``riskplan plan summary``: the plan renders its public summary through ``reports`` (data flows one way)."""
    if not any(c.name == "summary" for c in plan_app.registered_commands):
        plan_app.command("summary")(importlib.import_module("riskplan.reports.cli").plan_summary)


_GROUP_HELP = {
    "plan": "The risk management plan: show, export, parse, load, versions, diff.",
    "terms": "Terminology: MedDRA loader, open term list, verbatim coding.",
    "case": "Individual case safety reports: intake, E2B(R3) exchange, assessment, clocks.",
    "signal": "Signal detection (disproportionality) over spontaneous reports, and signal management.",
    "study": "The plan's observational studies on OMOP CDM data.",
    "user": "Users of the web application: add, list, unlock.",
    "report": "Periodic reports: the PSUR / PBRER (ICH E2C(R2), GVP Module VII).",
    "check": "Risk minimisation: pre-infusion checklist, patient card, effectiveness indicators.",
    "audit": "The audit trail: verify its hash chain, read its history.",
}


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or upgrade every table to the latest migration."""
    engine = database()
    console.print(f"database {engine.url.render_as_string(hide_password=True)} is at the latest revision")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database is at the latest revision, and the audit trail's row count and head hash."""
    from riskplan.store.audit import audit_head
    from riskplan.store.db import make_engine, session_scope
    from riskplan.store.migrate import is_current

    engine = make_engine(get_settings().database_url)
    try:
        current = is_current(engine)
    except Exception as exc:  # an unreachable server or a foreign file
        console.print(f"cannot read the database: {exc}")
        raise typer.Exit(1) from None
    console.print("up to date" if current else "needs `riskplan db upgrade`")
    if current:
        with session_scope(engine) as session:
            rows, head = audit_head(session)
        console.print(f"audit trail: {rows} rows, head {head}")
    raise typer.Exit(0 if current else 1)


@user_errors
def demo(
    steps: Annotated[str | None, typer.Option(help="Comma-separated steps to run (default: all, in order)")] = None,
) -> None:
    """Run the main job on the embedded default and print where its outputs are."""
    from riskplan.demo import STEPS, DemoContext, run_demo

    names = [n for n, _ in STEPS]
    chosen = None
    if steps:
        wanted = [w.strip() for w in steps.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise UserInputError(f"--steps: unknown step(s) {', '.join(unknown)}; steps: {', '.join(names)}")
        chosen = [(n, f) for n, f in STEPS if n in wanted]
    settings = get_settings()
    ctx = DemoContext(settings=settings, engine=database(), console=console)
    outputs = run_demo(ctx, chosen)
    console.rule("[bold]riskplan demo: outputs")
    console.print(f"database: {settings.database_url}", soft_wrap=True)
    for label, path in outputs:
        console.print(f"{label}: {path}", soft_wrap=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
) -> None:
    """Run the web application (pages and JSON API) on the configured database."""
    from riskplan.web.cli import serve as run

    run(host=host, port=port)


def version() -> None:
    """Print the riskplan version."""
    console.print(__version__)


def main() -> None:
    group = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
    known = {name for name, _, _ in GROUPS} | {"synth"}
    build_app(only=group if group in known else None)()


def __getattr__(name: str) -> Any:
    """``riskplan.cli.app``: the whole command line, built on first use."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
