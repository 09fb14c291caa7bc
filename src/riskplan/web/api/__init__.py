"""The JSON API under ``/api`` (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter

from riskplan.web.api import audit, auth, cases, plans, signals, studies, submissions

router = APIRouter(prefix="/api")
for module in (auth, plans, cases, submissions, signals, studies, audit):
    router.include_router(module.router)
