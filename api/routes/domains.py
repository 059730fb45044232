"""/api/v1/apps/{name}/domains: the custom domains an app answers at."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import DomainCreate, DomainPublic
from api.services import domains
from api.services.access import Permission, app_for
from core.models import Domain
from core.settings import Settings

router = APIRouter(prefix="/api/v1/apps/{name}/domains", tags=["domains"])


def domain_public(settings: Settings, domain: Domain) -> DomainPublic:
    """The API's view of a domain, with the URL the app answers at there."""
    return DomainPublic(
        hostname=domain.hostname, url=settings.host_url(domain.hostname), created_at=domain.created_at
    )


@router.get("", response_model=list[DomainPublic])
def list_domains(
    name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[DomainPublic]:
    """The app's custom domains, by host name."""
    app = app_for(session, principal, name, Permission.READ)
    return [domain_public(settings, domain) for domain in app.domains]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DomainPublic,
    responses={200: {"description": "The app had this domain already; nothing changed."}},
)
def add_domain(
    name: str,
    body: DomainCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> DomainPublic:
    """Serve the app at a host name of yours too; a live app answers there at once, no deploy needed.

    Point the name's DNS at this Dockyard. 409 when another app has it.
    """
    app = app_for(session, principal, name, Permission.WRITE)
    domain, created = domains.add_and_apply(
        session, settings=settings, principal=principal, app=app, hostname=body.hostname
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return domain_public(settings, domain)


@router.delete("/{hostname}", status_code=status.HTTP_204_NO_CONTENT)
def remove_domain(
    name: str, hostname: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> Response:
    """Stop serving the app at this host name; a live app stops answering there at once."""
    app = app_for(session, principal, name, Permission.WRITE)
    domains.remove_and_apply(session, settings=settings, app=app, hostname=hostname)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
