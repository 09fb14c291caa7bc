"""The JSON API under ``/api`` (bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter

from riskplan.web.api import audit, auth, cases, plans, signals, studies, submissions

router = APIRouter(prefix="/api")
# cases first: a request is matched against the routes in this order, and case intake and follow-up are
# the busiest routes by far (their prefixes differ, so the order changes no match)
for module in (cases, auth, plans, submissions, signals, studies, audit):
    router.include_router(module.router)
