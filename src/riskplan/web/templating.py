"""Jinja2 templates of the pages (package templates, autoescaped) and the one way to render them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from riskplan.web.auth import Principal
from riskplan.web.roles import Permission

#: Messages shown after a form was handled (``?done=<key>``; never text from the request itself).
FLASH = {
    "created": "Case saved.",
    "follow-up": "Follow-up saved as a new version.",
    "unchanged": "Nothing changed: the follow-up has the same content as the latest version.",
    "assessed": "Assessment recorded.",
    "linked": "Cases linked as duplicates.",
    "coded": "Reaction coded: stored as a new version of the case, recorded in its audit trail.",
    "approved": "Plan version approved.",
    "moved": "Signal moved.",
    "run": "Study run finished; its report is below.",
    "assigned": "Case assigned; recorded in its audit trail.",
    "psur": "PSUR / PBRER written; it is listed below.",
    "report": "Report produced and stored; it is listed below.",
}


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("riskplan.web", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(P=Permission, fmt=_fmt)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HTMLResponse:
    base: dict[str, Any] = {
        "user": principal,
        "csrf": principal.csrf_token if principal else "",
        "can": principal.can if principal else (lambda _permission: False),
        "flash": FLASH.get(request.query_params.get("done", "")),
    }
    base.update(context or {})
    base.update(extra)
    return templates.TemplateResponse(request, template, base, status_code=status_code, headers=headers)
