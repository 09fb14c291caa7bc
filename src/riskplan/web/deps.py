"""Request dependencies: the shared context, who is asking (bearer token or session cookie), and
permission checks. Nothing but login and health is reachable without a live session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from riskplan.web.auth import Principal
from riskplan.web.context import WebContext
from riskplan.web.roles import Permission
from riskplan.web.security import UNSAFE_METHODS, submitted_csrf_token, tokens_match

SESSION_COOKIE = "riskplan_session"
LOGIN_COOKIE = "riskplan_login"
COOKIE_PURPOSE = "session"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="A token from POST /api/auth/token (valid until idle for the session timeout, or logout)",
)


def get_ctx(request: Request) -> WebContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, WebContext)
    return ctx


async def _ctx_dependency(request: Request) -> WebContext:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, a hand-over to a worker thread and
    # back (a queue, a thread wake-up and a loop wake-up: about a tenth of a write's server CPU under load,
    # 2026-12-04) for what is an attribute read
    return get_ctx(request)


Ctx = Annotated[WebContext, Depends(_ctx_dependency)]


class LoginRequired(Exception):
    """A page was asked for without a live session: the browser is sent to the login page."""


def api_principal(
    ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            401,
            "authentication required: send a bearer token from POST /api/auth/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = ctx.auth.resolve(credentials.credentials, "api")
    if principal is None:
        raise HTTPException(
            401,
            "the token is unknown, expired or logged out: log in again",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


def cookie_principal(ctx: WebContext, request: Request) -> Principal | None:
    token = ctx.auth.unsign(COOKIE_PURPOSE, request.cookies.get(SESSION_COOKIE))
    return ctx.auth.resolve(token, "browser")


def page_principal(ctx: Ctx, request: Request) -> Principal:
    principal = cookie_principal(ctx, request)
    if principal is None:
        raise LoginRequired()
    return principal


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """An API dependency: the caller, who must hold ``permission`` (else 403)."""

    async def dependency(principal: Annotated[Principal, Depends(api_principal)]) -> Principal:
        # async: no I/O here, so no hand-over to the thread pool (see _ctx_dependency); the session check
        # itself (api_principal) reads the database and stays in a worker thread
        if not principal.can(permission):
            raise HTTPException(403, f"your role ({principal.role.value}) may not do this (needs {permission.value})")
        return principal

    return dependency


async def checked_page_principal(request: Request, ctx: Ctx) -> Principal:
    """A page's user; on POST (and other unsafe methods) the session's CSRF token must come with it."""
    principal = await run_in_threadpool(cookie_principal, ctx, request)
    if principal is None:
        raise LoginRequired()
    if request.method in UNSAFE_METHODS and not tokens_match(principal.csrf_token, await submitted_csrf_token(request)):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")
    return principal


def page_require(permission: Permission) -> Callable[..., object]:
    """A page dependency: the (CSRF-checked) user, who must hold ``permission``."""

    async def dependency(principal: Annotated[Principal, Depends(checked_page_principal)]) -> Principal:
        if not principal.can(permission):
            raise HTTPException(403, f"your role ({principal.role.label}) may not do this")
        return principal

    return dependency
