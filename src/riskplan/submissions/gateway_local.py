"""The local AS2 gateway (:mod:`riskplan.submissions.gateway`) served inside this process: uvicorn in a
thread, on a free port of 127.0.0.1, stopped on leaving the ``with`` block. The demo sends through it;
``riskplan gateway serve`` is the same gateway as a process of its own."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from riskplan.errors import UserInputError
from riskplan.submissions.gateway import Gateway, create_app, prepare_gateway

START_TIMEOUT = 10.0  # seconds for uvicorn to start listening


@contextmanager
def gateway_in_thread(state_dir: Path, *, as2_id: str, profile: str = "ich") -> Iterator[tuple[Gateway, str]]:
    """A gateway with its keys in ``state_dir`` and ``profile``'s business rules, listening on 127.0.0.1:
    yields (gateway, its AS2 URL); a clear error when it does not start."""
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # the port is held from here on: no race for a "free" port
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/as2"
    try:
        gateway = prepare_gateway(state_dir, as2_id=as2_id, url=url, profile=profile)
        server = uvicorn.Server(uvicorn.Config(create_app(gateway), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name=f"gateway-{as2_id}")
        thread.daemon = True
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            server.should_exit = True
            raise UserInputError(f"local AS2 gateway {as2_id} did not start on {url} within {START_TIMEOUT:.0f} s")
        try:
            yield gateway, url
        finally:
            server.should_exit = True
            thread.join(START_TIMEOUT)
    finally:
        listener.close()
