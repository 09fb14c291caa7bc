"""``riskplan gateway serve`` as the process a user starts: it listens, takes one report sent with
``riskplan submission send --channel as2``, answers with a signed MDN and an ICH ACK, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from test_submissions_cli import _new, _serious_de, _submissions
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.settings import get_settings

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(process: subprocess.Popen[str], port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gateway exited with {process.returncode}: {process.communicate()}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"gateway not listening on {port} after {timeout} s")


def test_gateway_serve_receives_a_report_answers_mdn_and_ack_and_stops_cleanly(cli_env: Path) -> None:
    port, state = _free_port(), cli_env / "gateway"
    command = [sys.executable, "-m", "riskplan", "gateway", "serve", "--port", str(port), "--state-dir", str(state)]
    env = {**os.environ, "COLUMNS": "250"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_listening(process, port)
        (cli_env / "riskplan.toml").write_text(
            f'[gateway.EU]\nurl = "http://127.0.0.1:{port}/as2"\nlocal_gateway = "{state}"\n'
            "attempts = 3\ninitial_delay = 0.05\nmax_delay = 0.2\ntimeout = 10\n",
            encoding="utf-8",
        )
        get_settings.cache_clear()
        _new(cli_env, _serious_de())
        sent = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2", "--wait-ack", "20"], env=WIDE)
        assert sent.exit_code == 0, sent.output
        assert "MDN processed (signed, MIC verified; 1 attempt(s)): delivered" in sent.output
        [row] = _submissions()
        assert f"batch {row['batch']} (AA): 1 accepted, 0 rejected" in sent.output
        assert (row["state"], row["ack"]) == ("accepted", "CA")
        assert len(list((state / "received").glob("*.xml"))) == 1  # the file the gateway took
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            out, err = process.communicate(timeout=60)  # a loaded machine is slow to stop too
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}/as2" in out
    assert "Traceback" not in err
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
