"""Each framework the builder detects really builds and serves: source tree → image → container → HTTP."""

from __future__ import annotations

from pathlib import Path

import docker
import httpx
import pytest

from builder.build import build_image
from builder.detect import plan_build
from builder.source import read_tree
from core import labels
from scheduler.desired import web_service
from scheduler.runtime.docker import DockerRuntime

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

FLASK = {
    "requirements.txt": "flask\n",
    "app.py": (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.get('/')\ndef index():\n    return {'framework': 'flask'}\n"
    ),
}

FLASK_FACTORY = {
    "requirements.txt": "Flask>=3\ngunicorn\n",
    "app/__init__.py": (
        "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n\n"
        "    @app.get('/')\n    def index():\n        return {'framework': 'flask-factory'}\n\n"
        "    return app\n"
    ),
}

DJANGO = {
    "requirements.txt": "Django>=5\n",
    "manage.py": (
        "import os\nimport sys\n\nif __name__ == '__main__':\n"
        "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_cfg.settings')\n"
        "    from django.core.management import execute_from_command_line\n"
        "    execute_from_command_line(sys.argv)\n"
    ),
    "site_cfg/__init__.py": "",
    "site_cfg/settings.py": (
        "SECRET_KEY = 'test-only'\nDEBUG = False\nALLOWED_HOSTS = ['*']\n"
        "ROOT_URLCONF = 'site_cfg.urls'\nWSGI_APPLICATION = 'site_cfg.wsgi.application'\n"
        "INSTALLED_APPS = []\nDATABASES = {}\n"
    ),
    "site_cfg/urls.py": (
        "from django.http import JsonResponse\nfrom django.urls import path\n\n"
        "urlpatterns = [path('', lambda request: JsonResponse({'framework': 'django'}))]\n"
    ),
    "site_cfg/wsgi.py": (
        "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_cfg.settings')\n"
        "application = get_wsgi_application()\n"
    ),
}


@pytest.mark.parametrize(
    ("name", "files", "framework"),
    [("flask", FLASK, "flask"), ("factory", FLASK_FACTORY, "flask-factory"), ("django", DJANGO, "django")],
)
def test_the_detected_start_command_serves_the_app(
    name: str,
    files: dict[str, str],
    framework: str,
    tmp_path: Path,
    docker_client: docker.DockerClient,
    instance: str,
) -> None:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    plan = plan_build(read_tree(tmp_path), default_python="3.13")
    tag = f"{instance}/{name}:1"
    lines: list[str] = []
    build_image(
        docker_client.api,
        context=tmp_path,
        plan=plan,
        base_image="python:3.13-slim",
        ca_bundle=HOST_CA_BUNDLE,
        tag=tag,
        labels=labels.owned(instance, name, release="1"),
        on_line=lines.append,
        timeout=600,
    )
    runtime = DockerRuntime(docker_client, instance)
    spec = web_service(instance=instance, app=name, release=1, image=tag, env={}, volumes={})

    container = runtime.start(spec)
    upstream = runtime.wait_healthy(container, port=spec.port, timeout=60)

    assert httpx.get(f"http://{upstream}/", timeout=10, trust_env=False).json() == {"framework": framework}
    runtime.remove_app(name)
