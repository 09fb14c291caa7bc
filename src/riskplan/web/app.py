"""The web application: ``create_app(settings)`` builds the FastAPI app (JSON API + pages).

    uvicorn --factory riskplan.web.app:app_from_environment     # or: riskplan serve

The database is migrated to the latest revision when the app is made. The OpenAPI document is at
``/openapi.json`` (for a logged-in user: a bearer token or a browser session); there is no
interactive documentation page, whose scripts would break the Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import quote

from anyio import to_thread
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from riskplan import __version__
from riskplan.cases import E2bError
from riskplan.errors import NotFoundError, UserInputError
from riskplan.settings import Settings, get_settings
from riskplan.store import BUSY, CONFLICTS, DRIVER_ERRORS, SigningRefused, database_fault, make_engine, upgrade, utcnow
from riskplan.web import (
    api,
    pages,
    pages_case_documents,
    pages_cases,
    pages_intake,
    pages_psur,
    pages_reports,
    pages_submissions,
    pages_work,
)
from riskplan.web.auth import Auth, Principal
from riskplan.web.config import WebSettings
from riskplan.web.context import Conflict, Unavailable, WebContext
from riskplan.web.deps import LoginRequired, bearer_scheme, cookie_principal, get_ctx
from riskplan.web.security import SecurityHeadersMiddleware
from riskplan.web.signals_port import SignalWorkflow, load_signal_workflow
from riskplan.web.templating import render

_DEFAULT = object()
_log = logging.getLogger("riskplan.web")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/openapi.json")) or request.url.path == "/api"


def _error(
    request: Request, status: int, message: str, details: list[str] | None = None, headers: dict[str, str] | None = None
) -> Response:
    if _is_api(request):
        body: dict[str, Any] = {"detail": message}
        if details:
            body["errors"] = details
        return JSONResponse(body, status_code=status, headers=headers)
    heading = {
        400: "Bad request",
        401: "Not logged in",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Too large",
        422: "Not accepted",
        501: "Not yet available",
        503: "Database unavailable",
    }.get(status, "Error")
    return render(
        request,
        "error.html",
        None,
        status_code=status,
        headers=headers,
        status=status,
        heading=heading,
        message=message,
        details=details or [],
    )


def _install_error_handlers(app: FastAPI) -> None:
    async def login_required(request: Request, _: Exception) -> Response:
        target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _error(request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    async def request_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _is_api(request):
            return JSONResponse({"detail": _jsonable_errors(exc.errors())}, status_code=422)
        details = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _error(request, 422, "the request is not valid", details)

    async def user_error(request: Request, exc: Exception) -> Response:
        status = (
            404
            if isinstance(exc, NotFoundError)
            else 409
            if isinstance(exc, Conflict)
            else 403
            if isinstance(exc, SigningRefused)
            else 400
        )
        return _error(request, status, str(exc))

    async def e2b_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, E2bError)
        details = [str(r) for r in exc.rejections] + [str(v) for v in exc.violations]
        return _error(request, 422, exc.summary, details)

    async def model_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        details = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _error(request, 422, f"{exc.error_count()} problem(s) with the data", details)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return _error(request, 501, str(exc))

    async def integrity(request: Request, _: Exception) -> Response:
        return _error(request, 409, "a concurrent change conflicted with this one: reload and try again")

    async def database_unavailable(request: Request, exc: Exception) -> Response:
        """503 with the true reason (unreachable, disk full, read-only, busy); the URL only in the log."""
        fault = database_fault(exc, request.app.state.ctx.engine.url)
        _log.error("%s", fault.message())
        return _error(request, 503, fault.reason, headers={"Retry-After": "1"} if fault.busy else None)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(UserInputError, user_error)
    app.add_exception_handler(E2bError, e2b_error)
    app.add_exception_handler(ValidationError, model_error)
    app.add_exception_handler(Unavailable, unavailable)
    for conflict in CONFLICTS:
        app.add_exception_handler(conflict, integrity)
    for error in (*BUSY, DBAPIError, *DRIVER_ERRORS):
        app.add_exception_handler(error, database_unavailable)


def _jsonable_errors(errors: Any) -> Any:
    """Validation errors without the raw input and exception objects (they need not be JSON)."""
    return [{k: (v if k in ("loc", "msg", "type") else str(v)) for k, v in e.items() if k != "input"} for e in errors]


def create_app(
    settings: Settings | None = None,
    web: WebSettings | None = None,
    *,
    engine: Engine | None = None,
    signal_workflow: SignalWorkflow | object | None = _DEFAULT,
    clock: Callable[[], dt.datetime] = utcnow,
) -> FastAPI:
    """The application for ``settings`` (default: from the environment); migrates the database."""
    settings = settings or get_settings()
    web = web or WebSettings()
    engine = engine or make_engine(settings.database_url, pool_size=web.db_pool_size, max_overflow=web.db_max_overflow)
    upgrade(engine)
    workflow = load_signal_workflow() if signal_workflow is _DEFAULT else signal_workflow
    assert workflow is None or not isinstance(workflow, type)
    ctx = WebContext(
        settings=settings,
        web=web,
        engine=engine,
        auth=Auth(engine, web, clock),
        signals=workflow,  # type: ignore[arg-type]
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the API's (synchronous) endpoints run in this many threads at once; each holds at most one
        # database connection at a time, so db_pool_size + db_max_overflow of them never wait for the pool
        to_thread.current_default_thread_limiter().total_tokens = web.threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="riskplan",
        version=__version__,
        description="Pharmacovigilance and risk management: an EU Risk Management Plan run as software. "
        "Log in with POST /api/auth/token and send the token as `Authorization: Bearer <token>`.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(SecurityHeadersMiddleware, hsts=web.secure_transport)
    _install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(pages_intake.router)
    app.include_router(pages_cases.router)
    app.include_router(pages_case_documents.router)
    app.include_router(pages_submissions.router)
    app.include_router(pages_work.router)
    app.include_router(pages_psur.router)
    app.include_router(pages_reports.router)
    static = resources.files("riskplan.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    def openapi_reader(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
    ) -> Principal:
        c = get_ctx(request)
        principal = c.auth.resolve(credentials.credentials, "api") if credentials else cookie_principal(c, request)
        if principal is None:
            raise HTTPException(401, "log in to read the API description", headers={"WWW-Authenticate": "Bearer"})
        return principal

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document(_: Principal = Depends(openapi_reader)) -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory``: settings from ``RISKPLAN_*`` / ``RISKPLAN_WEB_*``."""
    return create_app()
