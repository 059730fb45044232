"""An app's Settings page: env variables (masked, revealed to admins, pasted as .env), volumes, domains, run
settings and limits, and the webhook secret — what each role sees, and the messages of refused changes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

from sqlalchemy import select, text

from api.services import apps as app_service
from core import crypto, db
from core.models import App, Deployment, Team
from core.settings import get_settings
from tests.github_payloads import push_for, signed_headers
from tests.web.conftest import Browser, make_user, sign_in_as

REPO = "https://github.com/octo/hello.git"
PASSWORD = "a long enough password"
SETTINGS = "/apps/hello/settings"


def make_app(name: str = "hello") -> str:
    """An app in the team `main`; its webhook secret."""
    with db.session_scope() as session:
        team = session.scalar(select(Team).where(Team.name == "main"))
        assert team is not None
        return app_service.create_app(
            session, settings=get_settings(), team=team, name=name, repo_url=REPO, branch="main"
        )[1]


def go_live(name: str = "hello") -> int:
    """A live release of the app, as the pipeline leaves one."""
    with db.session_scope() as session:
        app = session.scalar(select(App).where(App.name == name))
        assert app is not None
        live = Deployment(
            app_id=app.id,
            trigger="push",
            ref="main",
            commit="c" * 40,
            status="live",
            image=f"test/{name}:1",
            plan={"processes": {"web": "gunicorn app:app"}, "healthcheck": {"path": "/up", "timeout": None}},
        )
        session.add(live)
        session.flush()
        return live.id


def env_of(name: str = "hello") -> dict[str, tuple[str, bool]]:
    """The app's variables in clear, with whether each is secret."""
    with db.session_scope() as session:
        app = session.scalar(select(App).where(App.name == name))
        assert app is not None
        secret = get_settings().secret()
        return {var.key: (crypto.decrypt(secret, var.value_encrypted), var.is_secret) for var in app.env_vars}


def config_of(name: str = "hello") -> dict:
    with db.session_scope() as session:
        app = session.scalar(select(App).where(App.name == name))
        assert app is not None
        return dict(app.config or {})


def field_error(page: str, field: str) -> str:
    """The message shown next to a form field."""
    found = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]*)</span>', page)
    assert found is not None, f"no error next to {field}"
    return found.group(1)


# --- environment variables ---------------------------------------------------------------------------


def test_a_secret_set_through_the_page_is_encrypted_at_rest_and_masked(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    response = admin.submit(
        "/apps/hello/env", {"key": "DATABASE_URL", "value": "postgres://u:hunter22@db/app", "secret": "true"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{SETTINGS}#env"
    page = admin.open(response.headers["location"])
    assert "Set DATABASE_URL; nothing is live yet, so it applies at the next deploy." in page.text
    assert "DATABASE_URL" in page.text and "••••••••" in page.text
    assert "hunter22" not in page.text
    assert env_of() == {"DATABASE_URL": ("postgres://u:hunter22@db/app", True)}
    with db.session_scope() as session:
        stored = session.execute(text("SELECT value_encrypted FROM env_vars")).scalar_one()
    assert "hunter22" not in stored


def test_a_plain_variable_shows_its_value_and_can_be_removed(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit("/apps/hello/env", {"key": "LOG_LEVEL", "value": "debug"})  # the secret box unticked

    page = admin.open(SETTINGS)
    assert '<code class="env-value">debug</code>' in page.text
    removed = admin.submit("/apps/hello/env/LOG_LEVEL/delete")
    assert removed.status_code == 303
    assert "Removed LOG_LEVEL" in admin.open(removed.headers["location"]).text
    assert env_of() == {}


def test_a_change_to_a_live_app_rolls_out_and_links_to_the_deployment(
    admin: Browser, queued: Callable[[], list[int]]
) -> None:
    make_app()
    go_live()
    admin.open(SETTINGS)

    response = admin.submit("/apps/hello/env", {"key": "GREETING", "value": "hi", "secret": "true"})

    [rollout] = queued()
    assert response.headers["location"] == f"{SETTINGS}?rollout={rollout}#env"
    page = admin.open(response.headers["location"])
    assert "Set GREETING." in page.text
    assert f'<a href="/apps/hello/deployments/{rollout}">deployment #{rollout}</a>' in page.text
    assert f'href="/apps/hello/deployments/{rollout}">deployment #{rollout}</a>' in page.text


def test_the_reserved_port_is_refused_with_the_reason_and_the_form_kept(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    response = admin.submit("/apps/hello/env", {"key": "PORT", "value": "9000", "secret": "true"})

    assert response.status_code == 422
    assert "Dockyard sets PORT to the port your web process must listen on" in field_error(
        response.text, "key"
    )
    assert 'value="PORT"' in response.text and 'value="9000"' in response.text
    assert env_of() == {}


def test_a_viewer_sees_the_settings_without_forms_and_cannot_change_them(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit("/apps/hello/env", {"key": "TOKEN", "value": "s3cr3t", "secret": "true"})
    make_user("vera", PASSWORD, role="viewer")
    sign_in_as(admin, "vera", PASSWORD)

    page = admin.open(SETTINGS)

    assert page.status_code == 200
    assert "TOKEN" in page.text and "s3cr3t" not in page.text
    for action in (
        "/apps/hello/env",
        "/apps/hello/volumes",
        "/apps/hello/domains",
        "/apps/hello/run-settings",
    ):
        assert f'action="{action}"' not in page.text
    assert "data-reveal" not in page.text and "Remove" not in page.text
    assert "changing them needs the member, admin or owner role" in page.text
    refused = admin.submit("/apps/hello/env", {"key": "TOKEN", "value": "mine", "secret": "true"})
    assert refused.status_code == 403
    assert "your role in team 'main' is viewer" in unescape(refused.text)
    assert admin.submit("/apps/hello/env/TOKEN/delete").status_code == 403
    assert env_of() == {"TOKEN": ("s3cr3t", True)}


def test_a_member_cannot_reveal_a_secret_but_a_team_owner_can(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit("/apps/hello/env", {"key": "TOKEN", "value": "s3cr3t", "secret": "true"})
    make_user("mia", PASSWORD, role="member")
    make_user("olga", PASSWORD, role="owner")

    sign_in_as(admin, "mia", PASSWORD)
    page = admin.open(SETTINGS)
    assert 'action="/apps/hello/env"' in page.text  # a member changes settings…
    assert "data-reveal" not in page.text  # …but sees no Reveal button
    refused = admin.post("/apps/hello/env/TOKEN/reveal", headers={"X-CSRF-Token": admin.csrf})
    assert refused.status_code == 403
    assert "s3cr3t" not in refused.text

    sign_in_as(admin, "olga", PASSWORD)
    page = admin.open(SETTINGS)
    assert 'data-reveal="/apps/hello/env/TOKEN/reveal" data-target="env-value-TOKEN"' in page.text
    revealed = admin.post("/apps/hello/env/TOKEN/reveal", headers={"X-CSRF-Token": admin.csrf})
    assert revealed.status_code == 200
    assert revealed.headers["content-type"].startswith("text/plain")
    assert revealed.text == "s3cr3t"
    # Without this browser's CSRF token, not even an owner gets it.
    assert admin.post("/apps/hello/env/TOKEN/reveal").status_code == 403


def test_a_pasted_env_file_sets_every_variable_in_one_release(
    admin: Browser, queued: Callable[[], list[int]]
) -> None:
    make_app()
    go_live()
    admin.open(SETTINGS)
    pasted = (
        "# production settings\n"
        "\n"
        "export DEBUG=0\n"
        "DATABASE_URL=postgres://u:p@db/app?sslmode=require  # the primary\n"
        "GREETING='hello # not a comment'\n"
        'MOTD="two\\nlines"\n'
    )

    response = admin.submit("/apps/hello/env/bulk", {"text": pasted, "secret": "true"})

    assert response.status_code == 303
    assert len(queued()) == 1
    assert env_of() == {
        "DEBUG": ("0", True),
        "DATABASE_URL": ("postgres://u:p@db/app?sslmode=require", True),
        "GREETING": ("hello # not a comment", True),
        "MOTD": ("two\nlines", True),
    }
    page = admin.open(response.headers["location"])
    assert "Set 4 variables (DEBUG, DATABASE_URL, GREETING, MOTD)." in page.text
    assert "The change is rolling out as" in page.text
    assert "sslmode" not in page.text


def test_a_malformed_line_names_its_number_and_sets_nothing(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    pasted = "DEBUG=0\n# fine so far\nnot a variable\nTOKEN=abc\n"

    response = admin.submit("/apps/hello/env/bulk", {"text": pasted, "secret": "true"})

    assert response.status_code == 422
    assert field_error(response.text, "text") == "line 3: expected KEY=value but the line has no ="
    assert "not a variable\nTOKEN=abc" in response.text  # the paste is kept to fix it
    assert env_of() == {}


def test_a_pasted_reserved_key_names_its_line(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    response = admin.submit("/apps/hello/env/bulk", {"text": "DEBUG=0\nPORT=9000\n", "secret": "true"})

    assert response.status_code == 422
    assert field_error(response.text, "text").startswith("line 2: PORT: Dockyard sets PORT")
    assert env_of() == {}


def test_pasted_plain_variables_are_shown(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit("/apps/hello/env/bulk", {"text": "LOG_LEVEL=info\n"})

    assert env_of() == {"LOG_LEVEL": ("info", False)}
    assert '<code class="env-value">info</code>' in admin.open(SETTINGS).text


# --- volumes and domains -------------------------------------------------------------------------------


def test_volumes_attach_refuse_and_detach_keeping_the_data(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    attached = admin.submit(
        "/apps/hello/volumes", {"volume": "uploads", "mount_path": "/data", "process": ""}
    )
    assert attached.status_code == 303
    page = admin.open(attached.headers["location"])
    assert "Attached uploads at /data" in page.text
    assert '<td class="mono">uploads</td>' in page.text and "every process" in page.text

    hidden = admin.submit("/apps/hello/volumes", {"volume": "code", "mount_path": "/app", "process": ""})
    assert hidden.status_code == 422
    assert "must be an absolute path that does not hide the app" in field_error(hidden.text, "mount_path")
    assert 'value="code"' in hidden.text
    twice = admin.submit("/apps/hello/volumes", {"volume": "uploads", "mount_path": "/other", "process": ""})
    assert twice.status_code == 409
    assert "app 'hello' already has a volume named 'uploads'" in unescape(twice.text)

    detached = admin.submit("/apps/hello/volumes/uploads/detach")
    assert "Detached uploads (its data is kept" in admin.open(detached.headers["location"]).text
    with db.session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM volumes")).scalar_one() == 0


def test_domains_add_refuse_a_taken_name_and_remove(admin: Browser) -> None:
    make_app()
    make_app("other")
    admin.open(SETTINGS)

    added = admin.submit("/apps/hello/domains", {"hostname": "WWW.Example.com."})
    assert added.status_code == 303
    page = admin.open(added.headers["location"])
    assert "Added www.example.com." in page.text
    assert '<td class="mono">www.example.com</td>' in page.text

    admin.open("/apps/other/settings")
    taken = admin.submit("/apps/other/domains", {"hostname": "www.example.com"})
    assert taken.status_code == 409
    assert "www.example.com is already a domain of app 'hello'; remove it there first" in unescape(taken.text)
    bad = admin.submit("/apps/other/domains", {"hostname": "https://shop.example.com/"})
    assert bad.status_code == 422
    assert "without scheme, port or path" in field_error(bad.text, "hostname")
    assert 'value="https://shop.example.com/"' in bad.text

    admin.open(SETTINGS)
    removed = admin.submit("/apps/hello/domains/www.example.com/remove")
    assert "Removed www.example.com" in admin.open(removed.headers["location"]).text
    assert "www.example.com</td>" not in admin.open(SETTINGS).text


def test_the_dns_hint_names_the_apps_domain(admin: Browser) -> None:
    make_app()
    page = admin.open(SETTINGS)
    apps_domain = get_settings().apps_domain
    assert f"<code>hello.{apps_domain}</code>" in page.text


# --- run settings and limits ---------------------------------------------------------------------------


def run_form(**values: str) -> dict[str, str]:
    keys = (
        "healthcheck.path",
        "healthcheck.timeout",
        "deploy.release",
        "deploy.request_timeout",
        "deploy.drain",
        "deploy.stop_timeout",
    )
    return {key: values.get(key.replace(".", "_"), "") for key in keys}


def test_run_settings_are_saved_shown_with_their_source_and_removed_when_emptied(admin: Browser) -> None:
    make_app()
    go_live()
    page = admin.open(SETTINGS)
    assert "/up" in page.text and "live release (dockyard.toml, Procfile or detection)" in page.text

    saved = admin.submit(
        "/apps/hello/run-settings",
        run_form(healthcheck_path="/healthz", healthcheck_timeout="60", deploy_drain="5"),
    )

    assert saved.status_code == 303
    assert config_of() == {
        "healthcheck": {"path": "/healthz", "timeout": 60, "in_image": False},
        "deploy": {"drain": 5},
    }
    page = admin.open(saved.headers["location"])
    assert "The live release keeps its settings until the next build" in page.text
    assert "set here; applies at the next build (the live release uses /up)" in page.text

    cleared = admin.submit(
        "/apps/hello/run-settings", run_form(healthcheck_path="/healthz", healthcheck_timeout="60")
    )
    assert cleared.status_code == 303
    assert config_of() == {"healthcheck": {"path": "/healthz", "timeout": 60, "in_image": False}}
    admin.open(SETTINGS)
    admin.submit("/apps/hello/run-settings", run_form())
    assert config_of() == {}


def test_run_settings_errors_appear_next_to_their_field(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    bad_path = admin.submit(
        "/apps/hello/run-settings", run_form(healthcheck_path="healthz", deploy_drain="5")
    )
    assert bad_path.status_code == 422
    assert "must start with /" in field_error(bad_path.text, "healthcheck-path")
    assert 'value="healthz"' in bad_path.text and 'value="5"' in bad_path.text

    not_a_number = admin.submit("/apps/hello/run-settings", run_form(deploy_stop_timeout="soon"))
    assert not_a_number.status_code == 422
    assert "must be a whole number of seconds" in field_error(not_a_number.text, "deploy-stop_timeout")
    too_small = admin.submit("/apps/hello/run-settings", run_form(deploy_stop_timeout="0"))
    assert "must be at least 1 seconds" in field_error(too_small.text, "deploy-stop_timeout")
    timeout_alone = admin.submit("/apps/hello/run-settings", run_form(healthcheck_timeout="30"))
    assert "set the path too" in field_error(timeout_alone.text, "healthcheck-path")
    assert config_of() == {}


def test_no_release_command_is_an_explicit_setting(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    admin.submit("/apps/hello/run-settings", {**run_form(deploy_release="ignored"), "no_release": "true"})

    assert config_of() == {"deploy": {"release": ""}}
    page = admin.open(SETTINGS)
    assert 'name="no_release" value="true" checked' in page.text


def test_limits_are_set_refused_and_cleared(admin: Browser, queued: Callable[[], list[int]]) -> None:
    make_app()
    go_live()
    admin.open(SETTINGS)

    saved = admin.submit("/apps/hello/limits/web", {"memory": "512m", "cpus": "0.5"})
    [rollout] = queued()
    assert saved.headers["location"] == f"{SETTINGS}?rollout={rollout}#resources"
    page = admin.open(saved.headers["location"])
    assert "Set the limits of web." in page.text
    assert f"deployment #{rollout}</a>" in page.text
    assert 'value="512m"' in page.text and 'value="0.5"' in page.text

    bad = admin.submit("/apps/hello/limits/web", {"memory": "lots", "cpus": ""})
    assert bad.status_code == 422
    assert "must be a size such as 512m or 1g" in field_error(bad.text, "web-memory")
    cpus = admin.submit("/apps/hello/limits/web", {"memory": "", "cpus": "half"})
    assert "must be a number of CPUs" in field_error(cpus.text, "web-cpus")
    unknown = admin.submit("/apps/hello/limits/worker", {"memory": "1g", "cpus": ""})
    assert unknown.status_code == 422
    assert "the live release has no `worker` process; it runs web" in unescape(unknown.text)

    admin.submit("/apps/hello/limits/web", {"memory": "", "cpus": ""})
    with db.session_scope() as session:
        row = session.execute(text("SELECT memory, cpus FROM services WHERE name = 'web'")).one()
    assert tuple(row) == (None, None)


# --- source and webhook ----------------------------------------------------------------------------------


def test_a_new_webhook_secret_is_shown_once_and_replaces_the_old_one(
    admin: Browser, queued: Callable[[], list[int]]
) -> None:
    old = make_app()
    page = admin.open(SETTINGS)
    assert f"<code>{get_settings().public_url.rstrip('/')}/webhooks/github</code>" in page.text

    response = admin.submit("/apps/hello/webhook-secret")

    assert response.status_code == 200
    new = re.search(r'id="new-webhook-secret">([^<]+)<', response.text)
    assert new is not None and new.group(1).startswith("whsec")
    assert new.group(1) not in admin.open(SETTINGS).text
    body = json.dumps(push_for("octo/hello", branch="main", after="a" * 40)).encode()
    refused = admin.post("/webhooks/github", content=body, headers=signed_headers(old, body, event="push"))
    assert refused.status_code == 401
    accepted = admin.post(
        "/webhooks/github", content=body, headers=signed_headers(new.group(1), body, event="push")
    )
    assert accepted.status_code == 202
