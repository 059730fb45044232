"""Process types besides web: the ones a Procfile names, or background workers found in the source."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from builder.plans import FileTree, Requirements
from builder.pysource import (
    calls,
    import_path,
    imports,
    module_assignments,
    parse,
    python_files,
    str_value,
    walk,
)
from core.errors import ConfigError

PROCFILE_LINE = re.compile(r"(?P<name>[A-Za-z0-9_-]+)\s*:(?P<command>.*)")


def parse_procfile(text: str) -> dict[str, str]:
    """Process type → command, from a Procfile in Heroku's format (`name: command`, `#` comments)."""
    processes: dict[str, str] = {}
    defined_on: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"Procfile line {number}"
        match = PROCFILE_LINE.fullmatch(line)
        if match is None:
            raise ConfigError(
                f"expected `name: command` with a name of letters, digits, _ and - "
                f"(like `worker: celery -A proj worker`), got {line!r}",
                where=where,
            )
        name, command = match["name"], match["command"].strip()
        if not command:
            raise ConfigError(f"process type {name!r} has no command after the colon", where=where)
        if name in defined_on:
            raise ConfigError(
                f"process type {name!r} is already defined on line {defined_on[name]}: "
                "keep one line per process type",
                where=where,
            )
        processes[name], defined_on[name] = command, number
    if not processes:
        raise ConfigError(
            "defines no process types: add a line like `web: gunicorn --bind 0.0.0.0:$PORT app:app`, "
            "or delete the Procfile to let Dockyard detect them",
            where="Procfile",
        )
    return processes


Found = tuple[dict[str, str], tuple[str, ...]]
"""Process type → command, and why."""


def detect_workers(tree: FileTree, requirements: Requirements) -> Found:
    """Background processes for an app without a Procfile, and why; the first task queue found wins."""
    for detect in WORKERS:
        found = detect(tree, requirements)
        if found is not None:
            return found
    return {}, ()


# Celery -------------------------------------------------------------------------------------------------

SCHEDULE_SETTINGS = frozenset({"beat_schedule", "CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE"})
DATABASE_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _detect_celery(tree: FileTree, requirements: Requirements) -> Found | None:
    if "celery" not in requirements:
        return None
    path = next((p for p in python_files(tree) if _defines_celery_app(tree[p])), None)
    if path is None:
        return None
    module, app_dir = import_path(path)
    # `celery -A proj` finds the app in proj/celery.py by itself, the layout Celery's Django guide uses.
    app = module.removesuffix(".celery") if "." in module else module
    celery = f"{_env(app_dir)}celery -A {app}"
    processes = {"worker": f"{celery} worker --loglevel=info"}
    reasons = [f"found Celery() in {path} → worker: celery -A {app} worker"]
    schedule = _beat_schedule(tree)
    if "django-celery-beat" in requirements:
        processes["beat"] = f"{celery} beat --loglevel=info --scheduler {DATABASE_SCHEDULER}"
        reasons.append(
            f"django-celery-beat is in the requirements → beat: celery -A {app} beat "
            "with its DatabaseScheduler"
        )
    elif schedule is not None:
        processes["beat"] = f"{celery} beat --loglevel=info"
        reasons.append(f"found {schedule[0]} in {schedule[1]} → beat: celery -A {app} beat")
    else:
        reasons.append(
            "no beat_schedule, CELERY_BEAT_SCHEDULE or add_periodic_task() found → no beat process; "
            "add `beat: celery -A … beat` to a Procfile if the app schedules tasks another way"
        )
    return processes, tuple(reasons)


def _defines_celery_app(source: str) -> bool:
    module = parse(source)
    return imports(module, "celery") and any(
        calls(value, "Celery") for _, value in module_assignments(module)
    )


def _beat_schedule(tree: FileTree) -> tuple[str, str] | None:
    """(what, path) of the first periodic-task schedule: a schedule setting, or add_periodic_task()."""
    for path in python_files(tree):
        for node in walk(parse(tree[path])):
            name = _schedule_set_by(node)
            if name is not None:
                return name, path
            if calls(node, "add_periodic_task"):
                return "add_periodic_task()", path
    return None


def _schedule_set_by(node: ast.AST) -> str | None:
    """The schedule setting `node` gives a value that is not an empty literal, if any."""
    pairs: list[tuple[ast.expr, ast.expr | None]] = []
    if isinstance(node, ast.Assign):
        pairs = [(target, node.value) for target in node.targets]
    elif isinstance(node, ast.AnnAssign):
        pairs = [(node.target, node.value)]
    elif isinstance(node, ast.Call):  # app.conf.update(beat_schedule=…)
        return next(
            (k.arg for k in node.keywords if k.arg in SCHEDULE_SETTINGS and not _is_empty(k.value)), None
        )
    for target, value in pairs:
        name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
        if name in SCHEDULE_SETTINGS and value is not None and not _is_empty(value):
            return name
    return None


def _is_empty(value: ast.expr) -> bool:
    return isinstance(value, ast.Dict) and not value.keys


# Dramatiq -----------------------------------------------------------------------------------------------


def _detect_dramatiq(tree: FileTree, requirements: Requirements) -> Found | None:
    if "dramatiq" not in requirements:
        return None
    if "django-dramatiq" in requirements and "manage.py" in tree:
        command = "python manage.py rundramatiq"
        return {"worker": command}, (f"django-dramatiq is in the requirements → worker: {command}",)
    brokers, actors = [], []
    for path in python_files(tree):
        module = parse(tree[path])
        if not imports(module, "dramatiq"):
            continue
        if any(calls(node, "set_broker") for node in walk(module)):
            brokers.append(path)
        if any(_is_actor(node) for node in walk(module)):
            actors.append(path)
    if not actors:
        return None
    # dramatiq imports the modules in order; the one that sets the broker must come before the actors.
    paths = list(dict.fromkeys([*brokers[:1], *actors]))
    modules = [import_path(path)[0] for path in paths]
    app_dir = import_path(paths[0])[1]
    command = f"{_env(app_dir)}dramatiq {' '.join(modules)}"
    broker = f" (broker set in {brokers[0]})" if brokers and brokers[0] not in actors else ""
    return {"worker": command}, (
        f"found dramatiq actors in {', '.join(actors)}{broker} → worker: dramatiq {' '.join(modules)}",
    )


def _is_actor(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(func, ast.Name) and func.id == "actor") or (
            isinstance(func, ast.Attribute) and func.attr == "actor"
        ):
            return True
    return False


# RQ -----------------------------------------------------------------------------------------------------


def _detect_rq(tree: FileTree, requirements: Requirements) -> Found | None:
    if "rq" not in requirements:
        return None
    found: list[str] = []
    queues: list[str] = []
    for path in python_files(tree):
        module = parse(tree[path])
        if not imports(module, "rq"):  # not the standard library's queue.Queue
            continue
        for node in walk(module):
            if isinstance(node, ast.Call) and calls(node, "Queue"):
                found.append(path)
                name = _queue_name(node)
                if name is not None:
                    queues.append(name)
    if not found:
        return None
    queues = list(dict.fromkeys(queues))
    names = "" if queues in ([], ["default"]) else " " + " ".join(queues)
    command = f"{_env(import_path(found[0])[1])}rq worker --url $REDIS_URL{names}"
    return {"worker": command}, (
        f"found Queue() in {found[0]} and rq in the requirements → worker: rq worker{names}; "
        "it reads the Redis URL from REDIS_URL, so set that in the app's environment",
    )


def _queue_name(call: ast.Call) -> str | None:
    """The queue a `Queue(…)` call names: RQ's "default" when none, None when not a literal."""
    argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
    return "default" if argument is None else str_value(argument)


def _env(app_dir: str | None) -> str:
    # A src layout's package is importable through PYTHONPATH; `env` keeps the worker the exec'd process.
    return f"env PYTHONPATH={app_dir} " if app_dir else ""


WORKERS: tuple[Callable[[FileTree, Requirements], Found | None], ...] = (
    _detect_celery,
    _detect_dramatiq,
    _detect_rq,
)
"""Task queues in the order they claim a tree: one worker process type, so the first one found wins."""
