"""/api/v1/tokens: your API tokens — created with scopes and an expiry, shown once, revocable."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CurrentPrincipal, SessionDep
from api.routes.accounts import token_created
from api.schemas import TokenCreate, TokenCreated, TokenPublic
from api.services import tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("", response_model=list[TokenPublic])
def list_tokens(session: SessionDep, principal: CurrentPrincipal) -> list[TokenPublic]:
    """Your tokens, newest first; revoked ones stay listed with `revoked_at`."""
    return [
        TokenPublic.model_validate(token, from_attributes=True)
        for token in tokens.list_tokens(session, principal.user)
    ]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def create_token(body: TokenCreate, session: SessionDep, principal: CurrentPrincipal) -> TokenCreated:
    """A new token for you (for CI, scripts); it cannot have scopes the calling token lacks."""
    token, clear = tokens.create_token(
        session,
        user=principal.user,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
        granted_by=principal,
    )
    return token_created(token, clear)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def revoke_token(token_id: int, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Revoke a token: it answers 401 from now on."""
    tokens.revoke_token(session, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
