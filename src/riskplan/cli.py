"""The ``riskplan`` command line: ``riskplan <group> <command>``."""

from __future__ import annotations

import typer
from rich.table import Table

from riskplan import __version__
from riskplan.cases.cli import app as case_app
from riskplan.cases.cli import synth_cases
from riskplan.cli_support import console, database, user_errors
from riskplan.demo import DemoContext, run_demo
from riskplan.plan.cli import app as plan_app
from riskplan.settings import get_settings
from riskplan.signals.cli import app as signal_app
from riskplan.signals.cli import synth_spontaneous_command
from riskplan.store.migrate import is_current
from riskplan.studies.cli import app as study_app
from riskplan.studies.cli import synth_omop
from riskplan.terms.cli import app as terms_app

app = typer.Typer(
    help="riskplan: an EU Risk Management Plan run as software (GVP Modules V, VI, VII, IX, XVI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(plan_app, name="plan")

db_app = typer.Typer(help="The database: create and upgrade its tables.", no_args_is_help=True)
app.add_typer(db_app, name="db")

app.add_typer(terms_app, name="terms")
app.add_typer(case_app, name="case")

synth_app = typer.Typer(help="Synthetic data for demos, tests and benchmarks (seeded).", no_args_is_help=True)
app.add_typer(synth_app, name="synth")
synth_app.command("cases")(synth_cases)
synth_app.command("omop")(synth_omop)
synth_app.command("spontaneous")(synth_spontaneous_command)
app.add_typer(signal_app, name="signal")
app.add_typer(study_app, name="study")


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or upgrade every table to the latest migration."""
    engine = database()
    console.print(f"database {engine.url.render_as_string(hide_password=True)} is at the latest revision")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database is at the latest revision."""
    from riskplan.store.db import make_engine

    engine = make_engine(get_settings().database_url)
    try:
        current = is_current(engine)
    except Exception as exc:  # an unreachable server or a foreign file
        console.print(f"cannot read the database: {exc}")
        raise typer.Exit(1) from None
    console.print("up to date" if current else "needs `riskplan db upgrade`")
    raise typer.Exit(0 if current else 1)


@app.command()
@user_errors
def demo() -> None:
    """Run the main job on the embedded default and print where its outputs are."""
    settings = get_settings()
    ctx = DemoContext(settings=settings, engine=database(), console=console)
    outputs = run_demo(ctx)
    table = Table(title="riskplan demo: outputs")
    table.add_column("what")
    table.add_column("where", overflow="fold")
    table.add_row("database", settings.database_url)
    for label, path in outputs:
        table.add_row(label, str(path))
    console.print(table)


@app.command()
def version() -> None:
    """Print the riskplan version."""
    console.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
