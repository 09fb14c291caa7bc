"""The PSUR / PBRER in the web app: produce one for a period and plan, view or download it.

The report is made by the reports folder's entry point, the one ``riskplan report psur`` calls
(:func:`riskplan.reports.psur.write_psur`), into the same folder as that command's default
(``<output dir>/psur``): the page lists every report there, made from the browser or the command line.
Producing and reading it is for the QPPV and safety physicians (GVP Module VII: the QPPV is responsible
for the PSUR; :data:`~riskplan.web.roles.Permission.PSUR`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.errors import UserInputError
from riskplan.reports import store_written_psur, write_psur
from riskplan.web import plan_ops
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.forms import form_date
from riskplan.web.roles import Permission
from riskplan.web.security import REPORT_CSP
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
# psur_<plan>_<from>_<to>: the file names write_psur gives (plan names are slugs)
_STEM = re.compile(r"^psur_(?P<plan>[A-Za-z0-9._-]{1,80})_(?P<start>\d{4}-\d{2}-\d{2})_(?P<end>\d{4}-\d{2}-\d{2})$")
_MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


@dataclass(frozen=True)
class PsurFile:
    stem: str
    plan: str
    start: str
    end: str
    written: dt.datetime
    formats: tuple[str, ...]
    checksum: str | None


def psur_folder(ctx: Ctx) -> Path:
    return ctx.settings.output_dir / "psur"


def list_psurs(folder: Path) -> list[PsurFile]:
    """The reports in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found: list[PsurFile] = []
    for html in folder.glob("psur_*.html"):
        match = _STEM.match(html.stem)
        if match is None:
            continue
        formats = tuple(f for f in ("html", "pdf") if (folder / f"{html.stem}.{f}").is_file())
        meta = folder / f"{html.stem}.metadata.json"
        checksum = None
        if meta.is_file():
            try:
                checksum = str(json.loads(meta.read_text(encoding="utf-8")).get("checksum_sha256") or "") or None
            except (ValueError, OSError):
                checksum = None
        written = dt.datetime.fromtimestamp(html.stat().st_mtime, dt.UTC)
        found.append(
            PsurFile(
                html.stem,
                match["plan"],
                match["start"],
                match["end"],
                written,
                formats + ("json",) * meta.is_file(),
                checksum,
            )
        )
    return sorted(found, key=lambda f: f.written, reverse=True)


def _page(
    request: Request,
    ctx: Ctx,
    user: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    plans = [p.name for p in ctx.read(plan_ops.list_plans)] or [ctx.settings.default_plan]
    today = ctx.today()
    defaults = {
        "start": dt.date(today.year - 1, today.month, 1).isoformat(),
        "end": today.isoformat(),
        "plan": ctx.settings.default_plan,
        "pdf": "true",
    }
    return render(
        request,
        "psur.html",
        user,
        status_code=status_code,
        plans=plans,
        reports=list_psurs(psur_folder(ctx)),
        values=values or defaults,
        errors=errors or {},
        folder=str(psur_folder(ctx)),
    )


@router.get("/psur")
def psur_page(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.PSUR)]) -> HTMLResponse:
    return _page(request, ctx, user)


@router.post("/psur")
async def produce_psur(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PSUR)],
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
    plan: Annotated[str, Form(max_length=80)] = "",
    pdf: Annotated[bool, Form()] = False,
) -> Response:
    values = {"start": start, "end": end, "plan": plan, "pdf": "true" if pdf else ""}
    errors: dict[str, str] = {}
    first, last = form_date(start, "start", errors), form_date(end, "end", errors)
    plans = [p.name for p in ctx.read(plan_ops.list_plans)] or [ctx.settings.default_plan]
    if plan not in plans:
        errors["plan"] = f"no plan {plan!r}; the plans: {', '.join(plans)}"
    if first and last and last < first:
        errors["end"] = f"the data lock point ({last}) is before the start of the interval ({first})"
    if first and last and last > ctx.today():
        errors["end"] = f"the data lock point ({last}) is after today ({ctx.today()})"
    if errors or first is None or last is None:
        return _page(request, ctx, user, values=values, errors=errors, status_code=422)
    try:
        result = await run_in_threadpool(write_psur, ctx.engine, plan, first, last, psur_folder(ctx), pdf=pdf)
        # stored as well, with its DLP, checksums and audit head (the Reports page lists and regenerates it)
        await run_in_threadpool(
            store_written_psur, ctx.engine, result, plan, first, last, cdm=None, exposure=None, who=user.username
        )
    except UserInputError as exc:
        return _page(request, ctx, user, values=values, errors={"start": str(exc)}, status_code=422)
    return RedirectResponse("/psur?done=psur", status_code=303)


@router.get("/psur/{stem}.{fmt}")
def psur_file(
    ctx: Ctx, _: Annotated[Principal, need(Permission.PSUR)], stem: str, fmt: str, download: bool = False
) -> Response:
    if fmt not in _MEDIA or _STEM.match(stem) is None:
        raise HTTPException(404, f"no PSUR file {stem}.{fmt}: reports are psur_<plan>_<from>_<to>.html or .pdf")
    name = f"{stem}.metadata.json" if fmt == "json" else f"{stem}.{fmt}"
    path = psur_folder(ctx) / name
    if not path.is_file():
        raise HTTPException(404, f"no PSUR file {name}")
    disposition = "attachment" if download or fmt != "html" else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"', "Content-Security-Policy": REPORT_CSP}
    return Response(path.read_bytes(), media_type=_MEDIA[fmt], headers=headers)
