"""A real crash: ``riskplan submission send --channel as2`` in a process of its own, SIGKILLed after the post
left and before the MDN was recorded; the next send reconciles by the AS2 Message-ID, nothing sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select
from test_submissions_as2_send import _configure, _free_port, _received, _Server
from test_submissions_cli import _new, _serious_de, _submissions
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.store.db import session_scope
from riskplan.submissions.as2_sending import TEST_BARRIER
from riskplan.submissions.gateway import prepare_gateway
from riskplan.submissions.tables import BatchRow

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"
SEND = ["submission", "send", "-d", "EU", "--channel", "as2"]


def test_a_sender_killed_between_the_post_and_the_mdn_is_reconciled_by_message_id(cli_env: Path) -> None:
    gateway = prepare_gateway(cli_env / "gateway")
    port = _free_port()
    _configure(cli_env, gateway, port)
    _new(cli_env, _serious_de())
    barrier = cli_env / "barrier"
    env = {
        **os.environ,
        TEST_BARRIER: str(barrier),
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    server = _Server(gateway, port).start()
    try:
        sender = subprocess.Popen(
            [sys.executable, "-c", "from riskplan.cli import app; app()", *SEND],
            cwd=cli_env,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while not Path(f"{barrier}.reached").exists():
            assert sender.poll() is None, sender.communicate()[0].decode()
            assert time.monotonic() < deadline, "the sender never reached the post"
            time.sleep(0.05)
        sender.send_signal(signal.SIGKILL)  # the post has left; the MDN is in hand, not recorded
        sender.wait(30)
        assert sender.returncode == -signal.SIGKILL
        assert len(_received(gateway)) == 1  # the gateway has the message
        [row] = _submissions()
        assert row["state"] == "generated"  # nothing recorded as sent: the process died first
        engine = create_engine(os.environ["RISKPLAN_DATABASE_URL"])
        with session_scope(engine) as s:
            batch = s.scalars(select(BatchRow)).one()
            message_id, sending_at = batch.transmission_id, batch.sending_at
        assert message_id and sending_at is not None  # committed before the post (RFC 4130 §9.5)

        again = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2", "--wait-ack", "20"])
    finally:
        server.stop()
    assert again.exit_code == 0, again.output
    assert f"as {message_id}, resumed under the same Message-ID" in again.output
    [row] = _submissions()
    assert row["state"] == "accepted"  # delivered (the gateway's first MDN again), then its one ACK
    [file] = _received(gateway)  # exactly once at the gateway: the repeat was recognised by its Message-ID
    with session_scope(engine) as s:
        batch = s.scalars(select(BatchRow)).one()
        assert batch.transmission_id == message_id and file.read_bytes().decode("utf-8") == batch.content
    engine.dispose()
