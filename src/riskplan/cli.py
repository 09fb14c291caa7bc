"""The ``riskplan`` command line: ``riskplan <group> <command>``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from riskplan import __version__
from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.settings import get_settings
from riskplan.store import database, open_engine, user_errors

# The command groups, in --help order. Each group's module is imported only when that group is run
# (:func:`_group`), so a command starts without loading every folder's dependencies.
GROUPS: tuple[str, ...] = (
    "plan",
    "terms",
    "case",
    "submission",
    "signal",
    "study",
    "check",
    "report",
    "user",
    "gateway",
    "audit",
)
# ``riskplan synth <kind>`` (:func:`_synth_command`).
SYNTH_COMMANDS: tuple[str, ...] = ("cases", "spontaneous", "omop")


def _group(name: str) -> typer.Typer:
    """The Typer app of one group, from its folder's public surface (imported here, when it is run)."""
    if name == "plan":
        from riskplan.plan import cli_app as plan_app

        return plan_app
    if name == "terms":
        from riskplan.terms import cli_app as terms_app

        return terms_app
    if name == "case":
        from riskplan.cases import cli_app as case_app

        return case_app
    if name == "submission":
        from riskplan.submissions import cli_app as submission_app

        return submission_app
    if name == "signal":
        from riskplan.signals import cli_app as signal_app

        return signal_app
    if name == "study":
        from riskplan.studies import cli_app as study_app

        return study_app
    if name == "check":
        from riskplan.minimisation import cli_app as check_app

        return check_app
    if name == "report":
        from riskplan.reports import cli_app as report_app

        return report_app
    if name == "user":
        from riskplan.web import user_app

        return user_app
    if name == "gateway":
        from riskplan.submissions import gateway_app

        return gateway_app
    if name == "audit":
        from riskplan.store import cli_app as audit_app

        return audit_app
    raise ValueError(f"unknown command group {name!r}")


def _synth_command(command: str) -> Callable[..., None]:
    """The command behind ``riskplan synth <command>``, imported when it is run."""
    if command == "cases":
        from riskplan.cases import synth_cases

        return synth_cases
    if command == "spontaneous":
        from riskplan.signals import synth_spontaneous_command

        return synth_spontaneous_command
    if command == "omop":
        from riskplan.studies import synth_omop

        return synth_omop
    raise ValueError(f"unknown synth command {command!r}")


db_app = typer.Typer(help="The database: create and upgrade its tables.", no_args_is_help=True)


def build_app(only: str | None = None) -> typer.Typer:
    """The command line; with ``only``, just that group is loaded (the others still list in --help)."""
    epilog = database_epilog()
    root = typer.Typer(
        help="riskplan: an EU Risk Management Plan run as software (GVP Modules V, VI, VII, IX, XVI).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        epilog=epilog,
    )
    root.callback(invoke_without_command=True)(_root_options)
    root.command()(demo)
    root.command()(version)
    root.command(epilog=epilog)(serve)
    _name_database_in_help(db_app, epilog)
    root.add_typer(db_app, name="db")
    for name in GROUPS:
        if only is None or only == name:
            group = _group(name)
            if name == "plan":
                _add_plan_summary(group)
            if name == "terms":
                _add_terms_upgrade(group)
            if name == "case":
                _add_case_due(group)
                _add_case_work(group)
                _add_case_cioms(group)
            if name == "study":
                _add_study_run(group)
            if name == "report":
                _add_line_listing(group)
            _name_database_in_help(group, epilog)
            root.add_typer(group, name=name)
        else:
            root.add_typer(typer.Typer(help=_GROUP_HELP.get(name, "")), name=name)
    synth = typer.Typer(help="Synthetic data for demos, tests and benchmarks (seeded).", no_args_is_help=True)
    if only is None or only == "synth":
        for command in SYNTH_COMMANDS:
            synth.command(command, epilog=epilog)(_synth_command(command))
    root.add_typer(synth, name="synth")
    return root


_EPILOG_START = "Database: "


def database_epilog() -> str:
    """The line every command's --help ends with: which database the commands use (password hidden)."""
    try:
        from riskplan.settings import Settings
        from riskplan.store import shown_url

        url = shown_url(Settings().database_url)
    except Exception as exc:  # bad settings are reported, with the database, when a command opens it
        return f"{_EPILOG_START}the settings cannot be read ({exc.__class__.__name__}): see `riskplan db status`."
    return (
        f"{_EPILOG_START}{url} (from RISKPLAN_DATABASE_URL, riskplan.toml or the user data folder; "
        "`riskplan db status` tells which)."
    )


def _name_database_in_help(group: typer.Typer, epilog: str) -> None:
    for info in group.registered_commands:
        if info.epilog is None or info.epilog.startswith(_EPILOG_START):
            info.epilog = epilog


def _add_plan_summary(plan_app: typer.Typer) -> None:
    """``riskplan plan summary``: the plan renders its public summary through ``reports`` (data flows one way)."""
    if not any(c.name == "summary" for c in plan_app.registered_commands):
        from riskplan.reports import plan_summary_command

        plan_app.command("summary")(plan_summary_command)


def _add_study_run(study_app: typer.Typer) -> None:
    """``riskplan study run``: a whole study and its report, written by ``reports`` (above ``studies``), and
    the run kept in the database by ``web`` (which owns the study-run tables), so the web app's Studies
    page lists runs from the command line too."""
    if not any(c.name == "run" for c in study_app.registered_commands):
        from riskplan.web import study_run_command

        study_app.command("run")(study_run_command)


def _add_terms_upgrade(terms_app: typer.Typer) -> None:
    """``riskplan terms upgrade``: recoding stored cases to a new MedDRA release works on cases, which sit
    above terms, so the front end adds it to the terms group (as for ``case due``)."""
    if not any(c.name == "upgrade" for c in terms_app.registered_commands):
        from riskplan.cases import terms_upgrade_command

        terms_app.command("upgrade")(terms_upgrade_command)


def _add_case_due(case_app: typer.Typer) -> None:
    """``riskplan case due``: the reports owed per destination, the same as ``riskplan submission due``.

    Cases sit below submissions (cases never import them), so the front end joins the two: one truth of
    what is owed and sent, the submissions' obligations and records.
    """
    if not any(c.name == "due" for c in case_app.registered_commands):
        from riskplan.submissions import due_command as due

        case_app.command("due", help="Reports owed to each destination (the same as `riskplan submission due`).")(due)


def _add_case_work(case_app: typer.Typer) -> None:
    """``riskplan case assign`` and ``riskplan case queue``: the queues join cases and the reports owed
    (submissions), so the front end adds them, as for ``case due``."""
    names = {c.name for c in case_app.registered_commands}
    if "assign" not in names:
        from riskplan.cases import assign_command

        case_app.command("assign")(assign_command)
    if "queue" not in names:
        from riskplan.submissions import queue_command

        case_app.command("queue")(queue_command)


def _add_case_cioms(case_app: typer.Typer) -> None:
    """``riskplan case cioms``: the CIOMS I form is rendered by ``reports`` (above ``cases``)."""
    if not any(c.name == "cioms" for c in case_app.registered_commands):
        from riskplan.reports import cioms_command

        case_app.command("cioms")(cioms_command)


def _add_line_listing(report_app: typer.Typer) -> None:
    """``riskplan report line-listing``: the CIOMS II line listing (kept out of the PSUR command module)."""
    if not any(c.name == "line-listing" for c in report_app.registered_commands):
        from riskplan.reports import line_listing_command

        report_app.command("line-listing")(line_listing_command)


_GROUP_HELP = {
    "plan": "The risk management plan: show, export, parse, load, versions, diff.",
    "terms": "Terminology: MedDRA loader, open term list, verbatim coding.",
    "case": "Individual case safety reports: intake, E2B(R3) exchange, assessment, reports due.",
    "submission": "Regulatory reporting: reports owed to each authority and partner, sending, ACKs, compliance.",
    "signal": "Signal detection (disproportionality) over spontaneous reports, and signal management.",
    "study": "The plan's observational studies on OMOP CDM data.",
    "user": "Users of the web application: add, list, unlock.",
    "report": "Periodic reports: the PSUR / PBRER (ICH E2C(R2), GVP Module VII).",
    "check": "Risk minimisation: pre-infusion checklist, patient card, effectiveness indicators.",
    "gateway": "A local AS2 gateway acting like an authority's (signed MDN, ICH ACK), and an AS2 sender.",
    "audit": "The audit trail: verify its hash chain, read its history.",
}


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or upgrade every table to the latest migration."""
    engine = database()
    console.print(f"database {engine.url.render_as_string(hide_password=True)} is at the latest revision")


@db_app.command("status")
@user_errors
def db_status() -> None:
    """Say which database is used (and which settings file chose it), whether it is at the latest revision,
    and the audit trail's row count and head hash.

    Exit 0: up to date; 1: needs `riskplan db upgrade` (or does not exist yet); 2: bad URL or driver;
    3: the database cannot be reached or read.
    """
    from sqlalchemy.engine import make_url

    from riskplan.settings import config_file, data_dir
    from riskplan.store import audit_head, branch_states, is_current, session_scope, shown_url

    url = get_settings().database_url
    found = config_file()
    console.print(f"database: {shown_url(url)}", soft_wrap=True)
    source = found or f"environment and defaults (no riskplan.toml; data in {data_dir()})"
    console.print(f"settings: {source}", soft_wrap=True)
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" and parsed.query.get("uri") != "true" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        console.print("no database file yet: `riskplan db upgrade` creates it")
        raise typer.Exit(1)
    engine = open_engine(url)
    console.print(f"riskplan: {__version__}")
    current = is_current(engine)
    console.print("up to date" if current else "needs `riskplan db upgrade`")
    for branch, applied, head in branch_states(engine):
        state = "current" if applied == head else "behind"
        console.print(f"  migrations {branch}: {applied or 'none'} (head {head}) {state}")
    if current:
        with session_scope(engine) as session:
            rows, head = audit_head(session)
        console.print(f"audit trail: {rows} rows, head {head}")
    raise typer.Exit(0 if current else 1)


@db_app.command("backup")
@user_errors
def db_backup(
    out: Annotated[Path, typer.Option("--out", help="Backup file to write (refused if it exists, unless --force)")],
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists")] = False,
) -> None:
    """Back up the whole database while it is in use: SQLite's online backup API (the backup is a SQLite
    file) or PostgreSQL's pg_dump custom format (pg_dump on PATH, at least the server's version)."""
    from riskplan.store import backup_database, shown_url

    url = get_settings().database_url
    done = backup_database(url, out, force=force)
    console.print(f"backup of {shown_url(url)} written to {done.path}", soft_wrap=True)
    console.print(f"{done.kind}, {done.size:,} bytes, {done.counts.describe()}, {done.seconds:.1f} s")


@db_app.command("restore")
@user_errors
def db_restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `riskplan db backup`")],
    force: Annotated[bool, typer.Option(help="Replace a database that holds data")] = False,
) -> None:
    """Replace the configured database by a backup, then migrate it to the latest schema (a backup from an
    older riskplan is upgraded). A database that holds data is replaced only with --force."""
    from riskplan.store import restore_database, shown_url

    settings = get_settings()
    url = settings.database_url
    done = restore_database(url, file, force=force, who=settings.user)
    console.print(f"restored {done.source} into {shown_url(url)} in {done.seconds:.1f} s", soft_wrap=True)
    if done.replaced.total:
        console.print(f"replaced: {done.replaced.describe()}")
    console.print(f"now: {done.counts.describe()}" + (" (migrated to the latest schema)" if done.migrated else ""))
    console.print(
        f"recorded in the restored audit trail: restore by {get_settings().user} of {done.source} "
        f"(SHA-256 {done.sha256}); check it with `riskplan audit verify`",
        soft_wrap=True,
    )


@user_errors
def demo(
    steps: Annotated[str | None, typer.Option(help="Comma-separated steps to run (default: all, in order)")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Database URL for the demo (default: its own, <data dir>/demo/riskplan-demo.db); "
            "refused when it holds real cases",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the demo's outputs (default: <data dir>/demo/out)")
    ] = None,
) -> None:
    """Run the main job on synthetic data in the demo's own database and print where its outputs are.

    The configured database (RISKPLAN_DATABASE_URL, riskplan.toml) is not used: the demo never
    changes real work.
    """
    from riskplan.demo import STEPS, DemoContext, demo_settings, run_demo
    from riskplan.store import shown_url

    names = [n for n, _ in STEPS]
    chosen = None
    if steps:
        wanted = [w.strip() for w in steps.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise UserInputError(f"--steps: unknown step(s) {', '.join(unknown)}; steps: {', '.join(names)}")
        chosen = [(n, f) for n, f in STEPS if n in wanted]
    current_user()  # a blank RISKPLAN_USER is refused before anything is written (21 CFR 11.10(e))
    settings = demo_settings(get_settings(), database_url, out)
    console.print(f"demo database: {shown_url(settings.database_url)}", soft_wrap=True)
    ctx = DemoContext(settings=settings, engine=database(settings.database_url), console=console)
    outputs = run_demo(ctx, chosen)
    console.rule("[bold]riskplan demo: outputs")
    console.print(f"database: {shown_url(settings.database_url)}", soft_wrap=True)
    for label, path in outputs:
        console.print(f"{label}: {path}", soft_wrap=True)


@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="Server processes (default RISKPLAN_WEB_WORKERS, else 1)", min=1, max=64),
    ] = None,
) -> None:
    """Run the web application (pages and JSON API) on the configured database."""
    from riskplan.web import serve as run

    run(host=host, port=port, workers=workers)


def version() -> None:
    """Print the riskplan version."""
    console.print(__version__)


def _show_version(value: bool) -> None:
    if value:
        console.print(f"riskplan {__version__}")
        raise typer.Exit(0)


def _root_options(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the riskplan version and exit", is_eager=True, callback=_show_version),
    ] = False,
) -> None:
    """riskplan: an EU Risk Management Plan run as software (GVP Modules V, VI, VII, IX, XVI)."""


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # answered before any group is loaded
        console.print(f"riskplan {__version__}")
        return
    group = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None
    known = {*GROUPS, "synth"}
    build_app(only=group if group in known else None)()


def __getattr__(name: str) -> Any:
    """``riskplan.cli.app``: the whole command line, built on first use."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
