"""The shared Spark session: one per process, master URLs read from the source forms users write."""

from __future__ import annotations

from typing import Any

import pytest

from riskplan.errors import UserInputError
from riskplan.store import spark_master, spark_session


@pytest.mark.parametrize(
    ("source", "master"),
    [
        ("spark+local://", "local[*]"),
        ("spark+local://2", "local[2]"),
        ("spark+local://2/cdm?prefix=x", "local[2]"),
        ("local[4]", "local[4]"),
        ("spark://cluster.example:7077", "spark://cluster.example:7077"),
    ],
)
def test_master_from_source(source: str, master: str) -> None:
    assert spark_master(source) == master


@pytest.mark.parametrize("source", ["spark+local://two", "sparks://x", "postgresql://x"])
def test_wrong_source_says_what_is_accepted(source: str) -> None:
    with pytest.raises(UserInputError, match="spark"):
        spark_master(source)


def test_one_session_per_process(spark: Any) -> None:
    assert spark_session("local[2]") is spark
    assert spark.sql("SELECT 1 + 1 AS two").collect()[0]["two"] == 2
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
