"""What a test does when the shared data folder (../shared) lacks what it needs.

Outside CI the test is skipped with the reason; in CI (``CI`` set) it fails, so a missing data set can
never pass unnoticed.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_shared(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (in CI a missing data set fails instead of skipping)")
    pytest.skip(message)
