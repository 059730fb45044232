"""Server time of the web UI's pages for a team with 100 apps (goal: under 100 ms each).

Seeds a fresh SQLite database (or DOCKYARD_DATABASE_URL) through the services: 100 apps in team `main`, each
with 30 deployments, 10 environment variables, 2 volumes, 2 domains and 30 webhook deliveries. Then signs in
through the pages and requests each page --rounds times, reading the server's own `Server-Timing` header
(network and client excluded). App pages that ask the Docker engine for container state include that call.

    .venv/bin/python -m bench.web_pages [--apps 100] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
from datetime import timedelta

APPS_PER_TEAM = 100
PASSWORD = "correct horse battery"


def seed(apps: int) -> None:
    """A team with `apps` apps and a realistic history each."""
    from api.services import accounts
    from api.services import apps as app_service
    from core import crypto
    from core.db import session_scope
    from core.models import Deployment, Domain, Volume, WebhookDelivery, utcnow
    from core.settings import get_settings

    settings = get_settings()
    with session_scope() as session:
        admin = accounts.create_first_admin(session, username="admin", password=PASSWORD)
        team = admin.memberships[0].team
        now = utcnow()
        for number in range(apps):
            app, _ = app_service.create_app(
                session,
                settings=settings,
                team=team,
                name=f"app-{number:03d}",
                repo_url=f"https://github.com/acme/app-{number:03d}.git",
                branch="main",
            )
            app_service.set_env(
                session,
                settings=settings,
                app=app,
                values={f"SETTING_{key}": crypto.new_token("v") for key in range(10)},
            )
            app.volumes.extend(Volume(name=f"data{key}", mount_path=f"/data{key}") for key in range(2))
            app.domains.extend(Domain(hostname=f"www{key}.app-{number:03d}.example.com") for key in range(2))
            for key in range(30):
                started = now - timedelta(hours=30 - key)
                session.add(
                    Deployment(
                        app_id=app.id,
                        status="live" if key == 29 else ("failed" if key % 7 == 0 else "superseded"),
                        trigger="push",
                        ref="main",
                        commit=f"{number:03d}{key:037d}",
                        commit_author="Octo Cat",
                        commit_message=f"Change number {key}",
                        image=f"dockyard/app-{number:03d}:{key}",
                        plan={"processes": {"web": "gunicorn app:app", "worker": "celery -A app worker"}},
                        log="-----> Building\n" * 200,
                        created_at=started,
                        started_at=started,
                        finished_at=started + timedelta(seconds=70),
                    )
                )
                session.add(
                    WebhookDelivery(
                        delivery_id=f"d-{number}-{key}",
                        app_id=app.id,
                        event="push",
                        signature_ok=True,
                        decision="deploying main",
                        received_at=started,
                    )
                )
            session.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apps", type=int, default=APPS_PER_TEAM)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault("DOCKYARD_DATA_DIR", tempfile.mkdtemp(prefix="dockyard-bench-"))
    from fastapi.testclient import TestClient

    from core.migrate import upgrade

    upgrade()
    seed(args.apps)
    from web.main import app

    middle = f"app-{args.apps // 2:03d}"
    pages = [
        "/",
        f"/apps/{middle}",
        f"/apps/{middle}/deployments",
        f"/apps/{middle}/deployments/{args.apps // 2 * 30 + 30}",
        f"/apps/{middle}/settings",
        f"/apps/{middle}/deliveries",
        "/apps/new",
        "/teams/main",
        "/tokens",
    ]
    with TestClient(app, base_url="http://dockyard.bench") as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, "the sign-in page has no CSRF token"
        signed_in = client.post(
            "/login",
            data={"csrf_token": csrf.group(1), "username": "admin", "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        print(f"{args.apps} apps, 30 deployments each; server time per page over {args.rounds} rounds (ms):")
        print(f"{'page':45} {'median':>8} {'p95':>8} {'max':>8}")
        worst = 0.0
        for path in pages:
            timings = []
            for _ in range(args.rounds):
                response = client.get(path, follow_redirects=False)
                assert response.status_code == 200, f"{path}: {response.status_code}"
                timings.append(float(response.headers["server-timing"].split("dur=")[1]))
            timings.sort()
            p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
            worst = max(worst, p95)
            print(f"{path:45} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")
        print(f"slowest p95: {worst:.1f} ms (goal: < 100 ms)")


if __name__ == "__main__":
    main()
