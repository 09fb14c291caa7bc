"""Electronic signatures in tests: a QPPV account, and the CLI arguments that sign as it."""

from __future__ import annotations

from typer.testing import CliRunner

from riskplan.store.signatures import Signer

QPPV_PASSWORD = "the QPPV's own password"
QPPV = Signer("qppv1", "Anne Quist", "qppv")  # as verify_signer returns it, for library calls
SIGN_AS_QPPV = ["--signer", "qppv1", "--password-stdin"]


def qppv_account(runner: CliRunner) -> None:
    """Create the QPPV's riskplan account (once per database) so that the CLI can sign with it."""
    from riskplan.cli import app

    added = runner.invoke(
        app,
        ["user", "add", "qppv1", "--role", "qppv", "--full-name", "Anne Quist", "--password-stdin"],
        input=QPPV_PASSWORD + "\n",
    )
    assert added.exit_code == 0 or "already exists" in added.output, added.output


def approve(runner: CliRunner, version: int) -> str:
    """`riskplan plan approve VERSION`, signed by the QPPV; the output."""
    from riskplan.cli import app

    qppv_account(runner)
    done = runner.invoke(app, ["plan", "approve", str(version), *SIGN_AS_QPPV], input=QPPV_PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    return done.output
