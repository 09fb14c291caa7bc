"""``/api/auth``: bearer tokens for API clients; ``/api/health``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import text

from riskplan.store import database_fault
from riskplan.web.api.schemas import Me, Message, TokenRequest, TokenResponse
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, api_principal
from riskplan.web.roles import ROLE_PERMISSIONS

router = APIRouter(tags=["auth"])


@router.get("/health", response_model=Message)
def health(ctx: Ctx) -> Message:
    """Open without login: whether the server can reach its database."""
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise HTTPException(503, database_fault(exc, ctx.engine.url).reason) from None
    return Message(detail="ok")


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses={401: {"model": Message}, 423: {"model": Message}},
)
def token(body: TokenRequest, ctx: Ctx, request: Request) -> TokenResponse:
    """Log in with user name and password; the token goes in ``Authorization: Bearer <token>``."""
    result = ctx.auth.login(body.username, body.password, request.client.host if request.client else None)
    if result.client_locked and result.locked_until is not None:
        raise HTTPException(
            423,
            f"too many failed logins from this address: logins from it are refused until "
            f"{result.locked_until:%Y-%m-%d %H:%M} UTC",
        )
    if result.locked_until is not None:
        raise HTTPException(
            423,
            f"too many failed logins: the account is locked until {result.locked_until:%Y-%m-%d %H:%M} UTC",
        )
    if not result.ok or result.user_id is None:
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    token_value, _ = ctx.auth.open_session(result.user_id, "api")
    principal = ctx.auth.resolve(token_value, "api")
    assert principal is not None
    return TokenResponse(
        access_token=token_value,
        expires_in=ctx.web.session_max_hours * 3600,
        idle_timeout=ctx.web.session_idle_minutes * 60,
        role=principal.role.value,
    )


@router.post("/auth/logout", response_model=Message)
def logout(ctx: Ctx, principal: Annotated[Principal, Depends(api_principal)]) -> Message:
    """End this token's session."""
    ctx.auth.end_session(principal.session_id)
    return Message(detail="logged out")


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(api_principal)]) -> Me:
    return Me(
        username=principal.username,
        role=principal.role.value,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )
