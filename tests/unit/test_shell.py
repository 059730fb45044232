"""exec_form: simple commands get `exec` so their program receives SIGTERM; compound ones are left alone."""

from __future__ import annotations

import pytest

from core.shell import exec_form


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gunicorn app:app --bind 0.0.0.0:$PORT", "exec gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("celery -A proj worker --loglevel=info", "exec celery -A proj worker --loglevel=info"),
        ("PYTHONPATH=src DEBUG='a b' hypercorn x:y", "PYTHONPATH=src DEBUG='a b' exec hypercorn x:y"),
        ("python -c 'import app; app.run()'", "exec python -c 'import app; app.run()'"),
        ("python worker.py > /tmp/log 2>&1", "exec python worker.py > /tmp/log 2>&1"),
        ("exec uvicorn main:app", "exec uvicorn main:app"),
        ("python manage.py migrate && gunicorn site.wsgi", "python manage.py migrate && gunicorn site.wsgi"),
        ("./start.sh; sleep 1", "./start.sh; sleep 1"),
        ("cat x | python filter.py", "cat x | python filter.py"),
        ("python 'unbalanced", "python 'unbalanced"),
        ("echo $(date)", "echo $(date)"),
    ],
)
def test_exec_form(command: str, expected: str) -> None:
    assert exec_form(command) == expected
