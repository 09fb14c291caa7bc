"""One Apache Spark session per process, for the engines that run SQL on Spark (studies, signal counting).

PySpark is optional (``pip install riskplan[spark]``, plus a Java 17+ runtime). The session is created
once per master URL and reused: starting a JVM takes seconds, and Spark allows one active session per
process. ``spark+local://`` (or ``local``/``local[N]``) runs Spark inside this process on all cores
(tests, a workstation); ``spark://host:port`` (or any master URL Spark accepts) uses a cluster.
"""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING, Any

from riskplan.errors import UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

_lock = threading.Lock()
_sessions: dict[str, Any] = {}


def spark_master(source: str) -> str:
    """The Spark master URL for a source written as ``spark+local://``, ``spark+local://4`` (4 cores),
    ``spark://host:port``, ``local`` or ``local[N]``."""
    s = source.strip()
    if s.startswith("spark+local://"):
        cores = s.removeprefix("spark+local://").split("/", 1)[0].split("?", 1)[0]
        if cores and not re.fullmatch(r"\d+|\*", cores):
            raise UserInputError(f"{source!r}: after spark+local:// give a number of cores (or nothing), not {cores!r}")
        return f"local[{cores or '*'}]"
    if s == "local" or re.fullmatch(r"local\[(\d+|\*)\]", s) or s.startswith("spark://"):
        return s.split("?", 1)[0]
    raise UserInputError(f"{source!r} is not a Spark master: use spark+local://, spark+local://N or spark://host:port")


def spark_session(master: str = "local[*]") -> SparkSession:
    """The process's Spark session for ``master`` (created on first use; UTC, no web UI, few shuffle
    partitions on local mode). Raises :class:`UserInputError` when PySpark or Java is missing."""
    with _lock:
        existing = _sessions.get(master)
        if existing is not None and not existing.sparkContext._jsc.sc().isStopped():
            return existing  # type: ignore[no-any-return]
        try:
            from pyspark.sql import SparkSession
        except ImportError as err:
            raise UserInputError(
                "the Spark engine needs PySpark: pip install 'riskplan[spark]' (and a Java 17+ runtime)"
            ) from err
        builder = (
            SparkSession.builder.master(master)
            .appName("riskplan")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.driver.memory", os.environ.get("RISKPLAN_SPARK_DRIVER_MEMORY", "2g"))
        )
        if master.startswith("local"):
            builder = builder.config("spark.sql.shuffle.partitions", "4").config("spark.default.parallelism", "4")
        try:
            session = builder.getOrCreate()
        except Exception as err:  # JVM missing or failing to start
            raise UserInputError(f"could not start Spark ({master}): {err}") from err
        session.sparkContext.setLogLevel("ERROR")
        _sessions[master] = session
        return session
