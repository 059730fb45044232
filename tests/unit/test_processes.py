"""Process types: Procfiles parsed (or the ConfigError a user reads), and workers proposed from the source."""

from __future__ import annotations

import pytest

from builder.plans import Requirements
from builder.processes import detect_workers, parse_procfile
from core.errors import ConfigError

NO_BEAT = (
    "no beat_schedule, CELERY_BEAT_SCHEDULE or add_periodic_task() found → no beat process; "
    "add `beat: celery -A … beat` to a Procfile if the app schedules tasks another way"
)
CELERY_APP = "from celery import Celery\n\napp = Celery('proj')\n"


def requires(*names: str) -> Requirements:
    return {name: frozenset() for name in names}


# Procfile -----------------------------------------------------------------------------------------------


def test_parse_procfile() -> None:
    text = """\
# processes
web: gunicorn --bind 0.0.0.0:$PORT app:app

worker:celery -A proj worker --loglevel=info
release-2 :  python manage.py migrate --noinput\r
  clock_1: python clock.py --at 12:00
"""

    assert parse_procfile(text) == {
        "web": "gunicorn --bind 0.0.0.0:$PORT app:app",
        "worker": "celery -A proj worker --loglevel=info",
        "release-2": "python manage.py migrate --noinput",
        "clock_1": "python clock.py --at 12:00",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "web: gunicorn app:app\ngunicorn app:app\n",
            "Procfile line 2: expected `name: command` with a name of letters, digits, _ and - "
            "(like `worker: celery -A proj worker`), got 'gunicorn app:app'",
        ),
        (
            "web worker: gunicorn app:app\n",
            "Procfile line 1: expected `name: command` with a name of letters, digits, _ and - "
            "(like `worker: celery -A proj worker`), got 'web worker: gunicorn app:app'",
        ),
        ("\nweb:   \n", "Procfile line 2: process type 'web' has no command after the colon"),
        (
            "web: gunicorn app:app\n# a second web\nweb: uvicorn app:app\n",
            "Procfile line 3: process type 'web' is already defined on line 1: "
            "keep one line per process type",
        ),
        (
            "# nothing yet\n\n",
            "Procfile: defines no process types: add a line like "
            "`web: gunicorn --bind 0.0.0.0:$PORT app:app`, "
            "or delete the Procfile to let Dockyard detect them",
        ),
    ],
)
def test_a_procfile_dockyard_cannot_use(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_procfile(text)

    assert str(raised.value) == message


def test_procfile_errors_say_where() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_procfile("web: a\nweb: b\n")

    assert raised.value.where == "Procfile line 2"


# Celery -------------------------------------------------------------------------------------------------

DJANGO_CELERY = """\
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
"""


def test_celery_in_a_django_project_with_a_beat_schedule_in_settings() -> None:
    tree = {
        "manage.py": "",
        "proj/__init__.py": "from .celery import app as celery_app\n",
        "proj/celery.py": DJANGO_CELERY,
        "proj/settings.py": (
            "from celery.schedules import crontab\n"
            "CELERY_BEAT_SCHEDULE = {'nightly': {'task': 'shop.tasks.report', 'schedule': crontab(hour=3)}}\n"
        ),
        "shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef report():\n    ...\n",
    }

    assert detect_workers(tree, requires("django", "celery", "redis")) == (
        {
            "worker": "celery -A proj worker --loglevel=info",
            "beat": "celery -A proj beat --loglevel=info",
        },
        (
            "found Celery() in proj/celery.py → worker: celery -A proj worker",
            "found CELERY_BEAT_SCHEDULE in proj/settings.py → beat: celery -A proj beat",
        ),
    )


def test_celery_without_a_schedule_runs_no_beat() -> None:
    tree = {"tasks.py": CELERY_APP + "\n@app.task\ndef add(x, y):\n    return x + y\n"}

    assert detect_workers(tree, requires("celery")) == (
        {"worker": "celery -A tasks worker --loglevel=info"},
        ("found Celery() in tasks.py → worker: celery -A tasks worker", NO_BEAT),
    )


@pytest.mark.parametrize(
    ("schedule", "what"),
    [
        ("app.conf.beat_schedule = {'tick': {'task': 'worker.tick', 'schedule': 10.0}}\n", "beat_schedule"),
        (
            "app.conf.update(beat_schedule={'tick': {'task': 'worker.tick', 'schedule': 10.0}})\n",
            "beat_schedule",
        ),
        ("CELERYBEAT_SCHEDULE = {'tick': {}}\n", "CELERYBEAT_SCHEDULE"),
        (
            "@app.on_after_configure.connect\n"
            "def setup(sender, **kwargs):\n"
            "    sender.add_periodic_task(10.0, tick.s())\n",
            "add_periodic_task()",
        ),
    ],
)
def test_celery_beat_schedules(schedule: str, what: str) -> None:
    tree = {"worker.py": CELERY_APP + schedule}

    assert detect_workers(tree, requires("celery")) == (
        {
            "worker": "celery -A worker worker --loglevel=info",
            "beat": "celery -A worker beat --loglevel=info",
        },
        (
            "found Celery() in worker.py → worker: celery -A worker worker",
            f"found {what} in worker.py → beat: celery -A worker beat",
        ),
    )


def test_an_empty_beat_schedule_runs_no_beat() -> None:
    tree = {"proj/celery.py": CELERY_APP + "app.conf.beat_schedule = {}\n"}

    assert detect_workers(tree, requires("celery")) == (
        {"worker": "celery -A proj worker --loglevel=info"},
        ("found Celery() in proj/celery.py → worker: celery -A proj worker", NO_BEAT),
    )


def test_django_celery_beat_uses_its_database_scheduler() -> None:
    tree = {
        "config/celery_app.py": DJANGO_CELERY,
        "config/settings/base.py": "CELERY_BEAT_SCHEDULE = {'a': {}}\n",
    }

    assert detect_workers(tree, requires("celery", "django-celery-beat")) == (
        {
            "worker": "celery -A config.celery_app worker --loglevel=info",
            "beat": "celery -A config.celery_app beat --loglevel=info "
            "--scheduler django_celery_beat.schedulers:DatabaseScheduler",
        },
        (
            "found Celery() in config/celery_app.py → worker: celery -A config.celery_app worker",
            "django-celery-beat is in the requirements → beat: celery -A config.celery_app beat "
            "with its DatabaseScheduler",
        ),
    )


def test_celery_in_a_src_layout() -> None:
    tree = {"src/shop/worker.py": CELERY_APP}

    assert detect_workers(tree, requires("celery"))[0] == {
        "worker": "env PYTHONPATH=src celery -A shop.worker worker --loglevel=info"
    }


def test_celery_needs_the_package_and_an_app_outside_tests() -> None:
    assert detect_workers({"tasks.py": CELERY_APP}, requires("flask")) == ({}, ())
    assert detect_workers({"tests/conftest.py": CELERY_APP}, requires("celery")) == ({}, ())


# Dramatiq and RQ ----------------------------------------------------------------------------------------


def test_dramatiq_loads_the_broker_module_before_the_actors() -> None:
    tree = {
        "app/broker.py": (
            "import dramatiq\nfrom dramatiq.brokers.redis import RedisBroker\n\n"
            "dramatiq.set_broker(RedisBroker(url='redis://redis'))\n"
        ),
        "app/tasks.py": "import dramatiq\n\n@dramatiq.actor(max_retries=3)\ndef send(to):\n    ...\n",
    }

    assert detect_workers(tree, requires("dramatiq")) == (
        {"worker": "dramatiq app.broker app.tasks"},
        (
            "found dramatiq actors in app/tasks.py (broker set in app/broker.py) "
            "→ worker: dramatiq app.broker app.tasks",
        ),
    )


def test_django_dramatiq_uses_its_management_command() -> None:
    tree = {"manage.py": "", "shop/tasks.py": "import dramatiq\n\n@dramatiq.actor\ndef send():\n    ...\n"}

    assert detect_workers(tree, requires("dramatiq", "django-dramatiq")) == (
        {"worker": "python manage.py rundramatiq"},
        ("django-dramatiq is in the requirements → worker: python manage.py rundramatiq",),
    )


def test_rq_worker_listens_to_the_queues_the_app_names() -> None:
    tree = {
        "jobs.py": (
            "from redis import Redis\nfrom rq import Queue\n\n"
            "high = Queue('high', connection=Redis())\nlow = Queue(name='low', connection=Redis())\n"
            "default = Queue(connection=Redis())\n"
        ),
        "util.py": "import queue\n\nq = queue.Queue()\n",
    }

    assert detect_workers(tree, requires("rq", "redis")) == (
        {"worker": "rq worker --url $REDIS_URL high low default"},
        (
            "found Queue() in jobs.py and rq in the requirements → worker: rq worker high low default; "
            "it reads the Redis URL from REDIS_URL, so set that in the app's environment",
        ),
    )


def test_rq_default_queue() -> None:
    tree = {"app.py": "import rq\n\nqueue = rq.Queue(connection=conn)\n"}

    assert detect_workers(tree, requires("rq")) == (
        {"worker": "rq worker --url $REDIS_URL"},
        (
            "found Queue() in app.py and rq in the requirements → worker: rq worker; "
            "it reads the Redis URL from REDIS_URL, so set that in the app's environment",
        ),
    )


def test_the_standard_librarys_queue_is_not_rq() -> None:
    assert detect_workers({"app.py": "import queue\nq = queue.Queue()\n"}, requires("rq")) == ({}, ())


def test_celery_claims_before_rq() -> None:
    tree = {"tasks.py": CELERY_APP, "jobs.py": "from rq import Queue\nq = Queue()\n"}

    assert detect_workers(tree, requires("celery", "rq"))[0] == {
        "worker": "celery -A tasks worker --loglevel=info"
    }
