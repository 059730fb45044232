"""First run, signing in and user accounts: /api/v1/setup, /api/v1/auth/token, /api/v1/users, and
joining a team with an invitation: /api/v1/invitations/{token}/accept."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.schemas import (
    PasswordChange,
    SetupRequest,
    SetupStatus,
    SignIn,
    TeamRole,
    TokenCreated,
    UserCreate,
    UserPublic,
)
from api.services import accounts, invitations, sign_in_throttle, tokens
from api.services.access import Permission, check_scope, require_site_admin
from core.errors import Unauthorized
from core.models import ApiToken, User

router = APIRouter(tags=["accounts"])


def token_created(token: ApiToken, clear: str) -> TokenCreated:
    """The response that shows a new token, the only time it is shown."""
    return TokenCreated(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=list(token.scopes),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        token=clear,
    )


def user_public(session: Session, user: User) -> UserPublic:
    """A user with their teams and roles."""
    return UserPublic(
        username=user.username,
        is_admin=user.is_admin,
        created_at=user.created_at,
        teams=[
            TeamRole(team=membership.team.name, role=membership.role)
            for membership in sorted(user.memberships, key=lambda membership: membership.team.name)
        ],
    )


@router.get("/api/v1/setup", response_model=SetupStatus)
def setup_status(session: SessionDep) -> SetupStatus:
    """Whether this Dockyard still needs its site administrator (first run)."""
    return SetupStatus(needed=accounts.setup_needed(session))


@router.post(
    "/api/v1/setup", status_code=status.HTTP_201_CREATED, response_model=TokenCreated, responses=errors(409)
)
def setup(body: SetupRequest, session: SessionDep) -> TokenCreated:
    """First run: create the site administrator and the first team; answers with their first token.

    Refused (409) once an administrator exists.
    """
    user = accounts.create_first_admin(session, username=body.username, password=body.password)
    return token_created(*tokens.create_token(session, user=user, name="first run"))


@router.post(
    "/api/v1/auth/token",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    responses={
        **errors(401),
        429: {"description": "Too many failed sign-ins for this username; wait and retry."},
    },
)
def sign_in(body: SignIn, session: SessionDep, settings: SettingsDep) -> TokenCreated:
    """Sign in with a username and password; answers with a new token (what `dockyard login` stores).

    After 10 failed attempts for one username in 15 minutes, it answers 429 until the window ends.
    """
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        sign_in_throttle.check(client, settings, body.username)
        try:
            user = accounts.sign_in(session, username=body.username, password=body.password)
        except Unauthorized:
            sign_in_throttle.record_failure(client, settings, body.username)
            raise
        sign_in_throttle.clear(client, settings, body.username)
    finally:
        client.close()
    token, clear = tokens.create_token(
        session, user=user, name=body.name, scopes=body.scopes, expires_in_days=body.expires_in_days
    )
    return token_created(token, clear)


@router.get("/api/v1/users/me", response_model=UserPublic)
def me(session: SessionDep, principal: CurrentPrincipal) -> UserPublic:
    """Who the token belongs to, and their teams and roles."""
    return user_public(session, principal.user)


@router.put("/api/v1/users/me/password", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def change_password(body: PasswordChange, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Change your password: your web UI sessions end; your tokens keep working (revoke them separately)."""
    check_scope(principal, Permission.WRITE)
    accounts.change_password(session, principal.user, current=body.current_password, new=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/users", response_model=list[UserPublic])
def list_users(session: SessionDep, principal: CurrentPrincipal) -> list[UserPublic]:
    """Every account (site administrator only)."""
    return [user_public(session, user) for user in accounts.all_users(session, principal)]


@router.post("/api/v1/users", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_user(body: UserCreate, session: SessionDep, principal: CurrentPrincipal) -> UserPublic:
    """Create an account (site administrator only); then add it to teams with PUT …/members/{user}."""
    require_site_admin(principal)
    user = accounts.create_user(
        session, username=body.username, password=body.password, is_admin=body.is_admin
    )
    return user_public(session, user)


@router.delete("/api/v1/users/{username}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_user(username: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete an account and its tokens (site administrator only; not your own)."""
    accounts.delete_user(session, principal, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/invitations/{token}/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamRole,
    responses=errors(409),
)
def accept_invitation(token: str, session: SessionDep, principal: CurrentPrincipal) -> TeamRole:
    """Join a team with an invitation link's token (the part after `/invite/`): you become a member with
    the invitation's role, and the link stops working.

    404 for a token that is not an invitation; 409 when it was used, revoked or has expired, or when you
    are in the team already; 403 when the invitation is for another username.
    """
    check_scope(principal, Permission.WRITE)
    membership = invitations.accept_invitation(session, principal.user, token)
    return TeamRole(team=membership.team.name, role=membership.role)
