"""An app's Settings page: env variables, volumes, domains, how it is released and run, its webhook and
connection to the GitHub App, deploy notifications and its deploy hook.

Anyone on the team reads it; changes need WRITE and revealing a secret needs MANAGE, checked on every POST.
A change that containers must be recreated for rolls out the live image again; the page then links to that
deployment (`?rollout=ID`), or says the change applies at the next deploy when nothing is live.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import apps as app_service
from api.services import deploy_hooks, domains, github_connect, operations, run_settings
from api.services import notifications as notification_service
from api.services.access import Permission
from api.services.config_rollouts import roll_out
from api.services.deployments import get_deployment
from api.services.env_files import parse_env_file
from core.errors import ConfigError, DockyardError, NotFound, TemporaryError
from core.models import App, GitHubApp, GitHubInstallation
from core.settings import Settings
from web.pages import AppPage, app_page
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

FormText = Annotated[str, Form()]
Checkbox = Annotated[bool, Form()]
Checkboxes = Annotated[list[str] | None, Form()]  # every ticked box of one name; None when none is
TargetId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LISTED_KEYS = 8  # a notice names at most this many keys (it travels in a cookie)


def settings_url(name: str, anchor: str, rollout: int | None = None) -> str:
    """The settings page at `anchor`, linking to the deployment that rolls a change out."""
    query = f"?rollout={rollout}" if rollout is not None else ""
    return f"/apps/{name}/settings{query}#{anchor}"


def applied(app: App, rollout: int | None, what: str) -> str:
    """The notice after a change: rolling out now, or when it will apply."""
    if rollout is not None:
        return f"{what}."  # the page names the rollout, with a link to it
    if app.stopped:
        return f"{what}; the app is stopped, so it applies when the app starts."
    return f"{what}; nothing is live yet, so it applies at the next deploy."


@router.get("/apps/{name}/settings")
def settings_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    rollout: int | None = None,
    connect: str | None = None,
) -> Response:
    """Every setting of the app, with forms for those the viewer may change (`?connect=github` also asks
    GitHub which repositories the GitHub App sees, to connect the app through it)."""
    page = app_page(session, viewer, name)
    return _render(request, session, settings, viewer, page, rollout=rollout, ask_github=connect == "github")


@router.post("/apps/{name}/env")
def set_variable(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    key: FormText = "",
    value: FormText = "",
    secret: Checkbox = False,
) -> Response:
    """Add or replace one variable."""
    page = app_page(session, viewer, name, Permission.WRITE)
    key = key.strip()
    try:
        if not key:
            raise ConfigError("enter the variable's name, e.g. DATABASE_URL")
        app_service.set_env(session, settings=settings, app=page.app, values={key: value}, secret=secret)
    except ConfigError as error:  # set_env refuses keys, so the message goes by the key's field
        return _refused(request, session, settings, viewer, page, error, "env", "key", key=key, value=value)
    rollout = roll_out(session, page.app)
    return redirect(settings_url(name, "env", rollout), applied(page.app, rollout, f"Set {key}"))


@router.post("/apps/{name}/env/bulk")
def set_variables_from_file(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    text: FormText = "",
    secret: Checkbox = False,
) -> Response:
    """Set every variable of a pasted .env file in one change (one rollout), or none of them."""
    page = app_page(session, viewer, name, Permission.WRITE)
    try:
        entries = parse_env_file(text)
        lines = {entry.key: entry.line for entry in entries}
        try:
            app_service.set_env(
                session,
                settings=settings,
                app=page.app,
                values={entry.key: entry.value for entry in entries},
                secret=secret,
            )
        except ConfigError as error:  # a key the app may not have (PORT): say on which line
            line = lines.get(error.where or "")
            raise ConfigError(error.detail, where=f"line {line}" if line else None) from None
    except ConfigError as error:
        return _refused(request, session, settings, viewer, page, error, "bulk", "text", text=text)
    rollout = roll_out(session, page.app)
    what = f"Set {len(lines)} variable{'s' if len(lines) != 1 else ''}"
    if len(lines) <= LISTED_KEYS:
        what += f" ({', '.join(lines)})"
    return redirect(settings_url(name, "env", rollout), applied(page.app, rollout, what))


@router.post("/apps/{name}/env/{key}/delete")
def remove_variable(name: str, key: str, session: SessionDep, viewer: ViewerDep) -> Response:
    """Remove one variable."""
    page = app_page(session, viewer, name, Permission.WRITE)
    app_service.unset_env(session, app=page.app, key=key)
    rollout = roll_out(session, page.app)
    return redirect(settings_url(name, "env", rollout), applied(page.app, rollout, f"Removed {key}"))


@router.post("/apps/{name}/env/{key}/reveal")
def reveal_variable(
    name: str, key: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """One variable's value as text, for team admins and owners only (the Reveal button fetches it)."""
    page = app_page(session, viewer, name, Permission.MANAGE)
    value = app_service.env_value(settings, page.app, key)
    return PlainTextResponse(value, headers={"Cache-Control": "no-store"})


@router.post("/apps/{name}/volumes")
def attach_volume(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    volume: FormText = "",
    mount_path: FormText = "",
    process: FormText = "",
) -> Response:
    """Attach a named volume, to every process or to one."""
    page = app_page(session, viewer, name, Permission.WRITE)
    volume, mount_path, process = volume.strip(), mount_path.strip(), process.strip()
    try:
        app_service.add_volume(
            session, app=page.app, name=volume, mount_path=mount_path, process=process or None
        )
    except DockyardError as error:
        form = {"volume": volume, "mount_path": mount_path, "process": process}
        return _refused(request, session, settings, viewer, page, error, "volumes", None, **form)
    rollout = roll_out(session, page.app)
    return redirect(
        settings_url(name, "volumes", rollout),
        applied(page.app, rollout, f"Attached {volume} at {mount_path}"),
    )


@router.post("/apps/{name}/volumes/{volume}/detach")
def detach_volume(name: str, volume: str, session: SessionDep, viewer: ViewerDep) -> Response:
    """Stop mounting a volume; its data stays."""
    page = app_page(session, viewer, name, Permission.WRITE)
    app_service.detach_volume(session, app=page.app, name=volume)
    rollout = roll_out(session, page.app)
    what = f"Detached {volume} (its data is kept: attach it again to get it back)"
    return redirect(settings_url(name, "volumes", rollout), applied(page.app, rollout, what))


@router.post("/apps/{name}/domains")
def add_domain(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    hostname: FormText = "",
) -> Response:
    """Serve the app at a host name of the viewer's too."""
    page = app_page(session, viewer, name, Permission.WRITE)
    try:
        domain, created = domains.add_and_apply(
            session, settings=settings, principal=viewer.principal, app=page.app, hostname=hostname
        )
    except TemporaryError as error:  # saved, but the proxy has not taken it yet
        return redirect(settings_url(name, "domains"), error.detail)
    except DockyardError as error:
        return _refused(request, session, settings, viewer, page, error, "domains", None, hostname=hostname)
    notice = f"Added {domain.hostname}" if created else f"{domain.hostname} was a domain of {name} already"
    return redirect(settings_url(name, "domains"), f"{notice}.")


@router.post("/apps/{name}/domains/{hostname}/remove")
def remove_domain(
    name: str, hostname: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Stop serving the app at a host name."""
    page = app_page(session, viewer, name, Permission.WRITE)
    try:
        domains.remove_and_apply(session, settings=settings, app=page.app, hostname=hostname)
    except TemporaryError as error:
        return redirect(settings_url(name, "domains"), error.detail)
    return redirect(settings_url(name, "domains"), f"Removed {hostname}; {name} no longer answers there.")


@router.post("/apps/{name}/run-settings")
async def update_run_settings(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Set or clear the health check, release command and timeouts (they apply at the next build)."""
    page = app_page(session, viewer, name, Permission.WRITE)
    form = await request.form()
    values = {setting.key: str(form.get(setting.key) or "") for setting in run_settings.SETTINGS}
    no_release = form.get("no_release") is not None
    try:
        run_settings.update_run_settings(page.app, values, no_release=no_release)
    except ConfigError as error:
        return _refused(
            request, session, settings, viewer, page, error, "run", None, **values, no_release=no_release
        )
    return redirect(
        settings_url(name, "run"),
        "Saved. The live release keeps its settings until the next build: deploy from the Overview page "
        "or push a commit.",
    )


@router.post("/apps/{name}/limits/{process}")
def set_limits(
    name: str,
    process: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    memory: FormText = "",
    cpus: FormText = "",
) -> Response:
    """Set (or clear) a process's memory and CPU limits; a live app rolls them out."""
    page = app_page(session, viewer, name, Permission.WRITE)
    try:
        limits = run_settings.limits_from_form(memory, cpus)
        deployment = operations.set_limits(
            session, app=page.app, process=process, memory=limits[0], cpus=limits[1]
        )
    except ConfigError as error:
        form = {f"{process}.memory": memory, f"{process}.cpus": cpus}
        field = f"{process}.{error.where}" if error.where in ("memory", "cpus") else None
        return _refused(request, session, settings, viewer, page, error, "resources", field, **form)
    rollout = deployment.id if deployment else None
    what = f"Set the limits of {process}"
    return redirect(settings_url(name, "resources", rollout), applied(page.app, rollout, what))


@router.post("/apps/{name}/webhook-secret")
def regenerate_webhook_secret(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """A new secret for the app's own webhook, shown on this page once."""
    page = app_page(session, viewer, name, Permission.WRITE)
    if page.app.github_installation_id is not None:
        raise ConfigError(
            f"{name} is connected through the Dockyard GitHub App, whose deliveries carry their own secret; "
            "it has no webhook secret to regenerate"
        )
    secret = app_service.rotate_webhook_secret(session, settings=settings, app=page.app)
    session.commit()
    return _render(request, session, settings, viewer, page, new_webhook_secret=secret)


@router.post("/apps/{name}/github/connect")
def connect_github(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    match: FormText = "",
    installation: FormText = "",
    repository: FormText = "",
) -> Response:
    """Connect the app through the GitHub App: a repository picked from the list (`match` is
    "installation:owner/repo") or typed with its installation; GitHub confirms the installation sees it."""
    page = app_page(session, viewer, name, Permission.WRITE)
    if match:
        installation, _, repository = match.partition(":")
    installation, repository = installation.strip(), repository.strip()
    try:
        if not installation.isdigit():
            raise ConfigError("pick the installation that sees the repository", where="installation")
        github_connect.connect_app(
            session, settings, app=page.app, installation_id=int(installation), repository=repository
        )
    except DockyardError as error:
        form = {"installation": installation, "repository": repository}
        return _refused(request, session, settings, viewer, page, error, "github", None, **form)
    return redirect(
        settings_url(name, "source"),
        f"Connected {name} to {page.app.repo_full_name} through installation {installation}: builds clone "
        "with the GitHub App's tokens and report their status on GitHub.",
    )


@router.post("/apps/{name}/github/disconnect")
def disconnect_github(name: str, session: SessionDep, viewer: ViewerDep) -> Response:
    """Stop using the GitHub App for the app (and its previews)."""
    page = app_page(session, viewer, name, Permission.WRITE)
    github_connect.disconnect_app(session, app=page.app)
    return redirect(
        settings_url(name, "source"),
        f"Disconnected {name} from the GitHub App: it clones {page.app.repo_url} without the App's tokens, "
        "and only a webhook of your own, signed with its webhook secret, deploys it on push.",
    )


@router.post("/apps/{name}/notifications")
def add_notification(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    format: FormText = "json",
    url: FormText = "",
    events: Checkboxes = None,
) -> Response:
    """Post the app's deploy outcomes to a URL; a json target's signing secret is shown on this page once."""
    page = app_page(session, viewer, name, Permission.WRITE)
    try:
        target, secret = notification_service.create_target(
            session,
            settings,
            app=page.app,
            url=url,
            format=notification_service.validated_format(format),
            events=events or [],  # no box ticked is a choice to refuse, not "every event"
        )
    except ConfigError as error:
        form = {"format": format, "url": url, "events": events or []}
        return _refused(request, session, settings, viewer, page, error, "notifications", None, **form)
    if secret is None:
        return redirect(
            settings_url(name, "notifications"),
            f"Added {target.url_masked}: send a test to check that it arrives.",
        )
    session.commit()  # the secret is shown now or never: the target must exist when the page says so
    return _render(request, session, settings, viewer, page, new_target=target, new_signing_secret=secret)


@router.post("/apps/{name}/notifications/{target_id}/test")
def test_notification(
    name: str, target_id: TargetId, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Send a test message to a target now and say how it went."""
    page = app_page(session, viewer, name, Permission.WRITE)
    target = notification_service.get_target(session, page.app, target_id)
    outcome = notification_service.send_test(settings, page.app, target)
    if outcome.ok:
        notice = f"Sent a test to {target.url_masked}: it answered {outcome.result}."
    else:
        notice = (
            f"The test to {target.url_masked} failed: {outcome.result}. Check the URL, and that the receiver "
            "accepts POSTs from this server."
        )
    return redirect(settings_url(name, "notifications"), notice)


@router.post("/apps/{name}/notifications/{target_id}/remove")
def remove_notification(name: str, target_id: TargetId, session: SessionDep, viewer: ViewerDep) -> Response:
    """Stop posting deploy outcomes to a target."""
    page = app_page(session, viewer, name, Permission.WRITE)
    target = notification_service.get_target(session, page.app, target_id)
    notification_service.delete_target(session, page.app, target.id)
    return redirect(
        settings_url(name, "notifications"), f"Removed {target.url_masked}: it gets no more posts."
    )


@router.post("/apps/{name}/deploy-hook")
def create_deploy_hook(
    name: str, request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """A new deploy hook URL (replacing any earlier one), shown on this page once."""
    page = app_page(session, viewer, name, Permission.WRITE)
    replaced = page.app.deploy_hook_hash is not None
    token = deploy_hooks.create_hook(page.app)
    session.commit()
    url = deploy_hooks.hook_url(settings, page.app, token)
    return _render(request, session, settings, viewer, page, new_deploy_hook_url=url, replaced_hook=replaced)


@router.post("/apps/{name}/deploy-hook/remove")
def remove_deploy_hook(name: str, session: SessionDep, viewer: ViewerDep) -> Response:
    """Disable the deploy hook: its URL answers 404 from now on."""
    page = app_page(session, viewer, name, Permission.WRITE)
    deploy_hooks.disable_hook(page.app)
    return redirect(
        settings_url(name, "deploy-hook"), "Removed the deploy hook: its URL deploys nothing now."
    )


def _refused(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: AppPage,
    error: DockyardError,
    section: str,
    field: str | None,
    **form: Any,
) -> Response:
    """The page again with the error by the form (`section`) and `field` (default: the error's `where`)
    it concerns, and what the viewer typed."""
    session.rollback()  # nothing of a refused change may be saved when the request commits
    # A field named here is not the error's `where`, so the message keeps what `where` says (line 3, PORT).
    context = form_error(error) if field is None else {"error": error.detail, "error_field": field}
    return _render(
        request,
        session,
        settings,
        viewer,
        page,
        status_code=error.status,
        section=section,
        form=form,
        **context,
    )


def _render(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: AppPage,
    *,
    status_code: int = 200,
    rollout: int | None = None,
    ask_github: bool = False,
    **context: Any,
) -> Response:
    app = page.app
    live = app_service.live_deployment(session, app)
    plan = live.plan if live is not None else None
    processes = operations.process_names(session, app)
    rolling = None
    if rollout is not None:
        try:
            rolling = get_deployment(session, app, rollout)
        except NotFound:
            rolling = None  # an old or edited link: show the page without it
    return render(
        request,
        "app_settings.html",
        viewer,
        status_code=status_code,
        app=app,
        page=page,
        tab="settings",
        live=live,
        rolling=rolling,
        env=app_service.env_listing(settings, app),
        volumes=sorted(app.volumes, key=lambda volume: volume.name),
        processes=processes,
        run=run_settings.setting_states(settings, app, plan),
        limits=run_settings.limit_states(app, processes, plan),
        app_url=settings.app_url(app.name),
        apps_domain=settings.apps_domain,
        webhook_url=f"{settings.public_url.rstrip('/')}/webhooks/github",
        notifications=notification_service.list_targets(session, app),
        **_github_choices(session, settings, page, ask=ask_github or context.get("section") == "github"),
        **{"section": None, "form": {}, "error": None, "error_field": None, **context},
    )


def _github_choices(session: Session, settings: Settings, page: AppPage, *, ask: bool) -> dict[str, Any]:
    """What the Source section shows of the GitHub App: the installation the app is connected through, or,
    for someone who may connect it and `ask`s, the installations and their repositories matching the app's
    own (asked of GitHub then, once per installation: not on every visit of the page)."""
    app = page.app
    registered = session.scalar(select(GitHubApp))
    installations = list(
        session.scalars(select(GitHubInstallation).order_by(GitHubInstallation.account_login))
    )
    connectable = (
        registered is not None
        and app.github_installation_id is None
        and app.preview_of_id is None
        and page.can("write")
    )
    listed: list[github_connect.InstallationRepositories] = []
    if registered is not None and connectable and ask:
        session.commit()  # GitHub may take a while to answer: do not hold the database meanwhile
        listed = github_connect.installation_repositories(settings, registered, installations)
    return {
        "connectable": connectable,
        "github_asked": ask,
        "installations": installations,
        "connected_installation": next(
            (row for row in installations if row.installation_id == app.github_installation_id), None
        ),
        "repository_matches": github_connect.matching_repositories(listed, app.repo_full_name),
        "github_problems": [entry for entry in listed if entry.problem],
    }
