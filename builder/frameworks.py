"""Which web framework an app uses and how to serve it: an ordered registry of detectors.

The first detector that claims the tree wins, so the more specific ones come first (Django before a bare
`wsgi.py`, FastAPI before Starlette). Each says why in lines that end up in the build log. Commands bind
0.0.0.0 and `$PORT`, which the shell expands when the container starts, and always use a production server
(never `flask run`, `manage.py runserver` or `fastapi dev`): the one the app declares if any, else a default
that `extra_packages` asks the build to install.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from builder.plans import Detection, FileTree, Requirements
from builder.pysource import (
    assigned_names,
    callee_name,
    calls_anywhere,
    candidates,
    import_path,
    imported_from,
    imports,
    module_assignments,
    module_functions,
    module_path,
    parse,
    str_value,
    walk,
)
from core.errors import BuildError


@dataclass(frozen=True)
class Detector:
    """One entry of the registry; `looks_for` tells users what would make it claim their tree."""

    framework: str
    looks_for: str
    detect: Callable[[FileTree, Requirements], Detection | None]


def detect_web(tree: FileTree, requirements: Requirements) -> Detection | None:
    """How to serve the web app in `tree`, from the first detector that claims it; None when none does."""
    for detector in FRAMEWORKS:
        detection = detector.detect(tree, requirements)
        if detection is not None:
            return detection
    return None


def looked_for() -> str:
    """What the detectors look for, in registry order, for the error a user reads when none claims a tree."""
    detectors = "; ".join(f"{detector.looks_for} ({detector.framework})" for detector in FRAMEWORKS)
    return f"{detectors}; app objects and factories ({', '.join(FACTORY_NAMES)}) in {', '.join(APP_FILES)}"


# Servers ------------------------------------------------------------------------------------------------

FACTORY_SERVERS = frozenset({"uvicorn-worker", "uvicorn", "gunicorn", "waitress"})
"""The servers that can call an app factory at start-up (the others need an app object)."""

INSTALLED_BY: dict[str, tuple[tuple[str, str | None], ...]] = {
    "uvicorn": (
        ("fastapi", "standard"),
        ("fastapi", "standard-no-fastapi-cloud-cli"),
        ("fastapi", "all"),
        ("litestar", "standard"),
        ("uvicorn-worker", None),
    ),
    "hypercorn": (("quart", None),),
    "daphne": (("channels", "daphne"),),
    "gunicorn": (("uvicorn-worker", None),),
}
"""server → (package, extra) that install it; an app with a lockfile lists these itself."""


@dataclass(frozen=True)
class _Target:
    """The attribute a server loads: an app object, or a factory it calls (`factory`)."""

    module: str
    name: str
    app_dir: str | None = None  # "src" for a src layout
    factory: bool = False
    is_async: bool = False  # an `async def` factory (aiohttp's worker awaits it)


_Commands = dict[str, Callable[[_Target], tuple[str, str]]]
"""server → (command, label) for a target; in order of preference."""


@dataclass(frozen=True)
class _Served:
    command: str
    label: str  # the server and what it loads, for the reason line: "gunicorn site_cfg.wsgi"
    extra_packages: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def _serve(requirements: Requirements, target: _Target, commands: _Commands, default: str) -> _Served:
    """Serve `target` with the first server of `commands` the app declares, else with one a declared
    package installs, else with `default`, which the build then installs."""
    usable = [s for s in commands if s in FACTORY_SERVERS or not target.factory]
    declared = next((s for s in usable if s in requirements), None)
    installed = next(((s, by) for s in usable if (by := _installed_by(requirements, s))), None)
    server: str = default
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = (default,)
    if declared is not None:
        server, missing = declared, ()
        if server != default:
            reasons = (f"the app requires {server} → serving with it instead of {default}",)
    elif installed is not None:
        (server, by), missing = installed, ()
        instead = f" → serving with it instead of {default}" if server != default else ""
        reasons = (f"{by} installs {server}{instead}",)
    command, label = commands[server](target)
    return _Served(command, label, missing, reasons)


def _installed_by(requirements: Requirements, server: str) -> str | None:
    for package, extra in INSTALLED_BY.get(server, ()):
        if extra is None and package in requirements:
            return package
        if extra is not None and extra in requirements.get(package, frozenset()):
            return f"{package}[{extra}]"
    return None


def _env(target: _Target) -> str:
    # Servers without an app-dir option find a src-layout package through PYTHONPATH; `env` keeps the
    # server the process the shell's `exec` starts.
    return f"env PYTHONPATH={target.app_dir} " if target.app_dir else ""


def _spec(target: _Target) -> str:
    return f"{target.module}:{target.name}"


def _gunicorn(target: _Target, worker_class: str | None = None, workers: str = "") -> tuple[str, str]:
    if target.factory and not target.is_async:
        spec = f"'{_spec(target)}()'"
    elif target.name == "application" and not target.factory:
        spec = target.module  # gunicorn's default name
    else:
        spec = _spec(target)
    pythonpath = f" --pythonpath {target.app_dir}" if target.app_dir else ""
    worker = f" --worker-class {worker_class}" if worker_class else ""
    label = f"gunicorn with {workers} workers {spec}" if workers else f"gunicorn {spec}"
    return f"gunicorn{pythonpath} --bind 0.0.0.0:$PORT{worker} {spec}", label


def _uvicorn(target: _Target) -> tuple[str, str]:
    factory = " --factory" if target.factory else ""
    app_dir = f" --app-dir {target.app_dir}" if target.app_dir else ""
    return (
        f"uvicorn {_spec(target)}{factory}{app_dir} --host 0.0.0.0 --port $PORT",
        f"uvicorn {_spec(target)}",
    )


def _hypercorn(target: _Target) -> tuple[str, str]:
    return f"{_env(target)}hypercorn --bind 0.0.0.0:$PORT {_spec(target)}", f"hypercorn {_spec(target)}"


def _daphne(target: _Target) -> tuple[str, str]:
    return f"{_env(target)}daphne -b 0.0.0.0 -p $PORT {_spec(target)}", f"daphne {_spec(target)}"


def _granian(interface: str) -> Callable[[_Target], tuple[str, str]]:
    def command(target: _Target) -> tuple[str, str]:
        return (
            f"{_env(target)}granian --interface {interface} --host 0.0.0.0 --port $PORT {_spec(target)}",
            f"granian {_spec(target)}",
        )

    return command


def _waitress(target: _Target) -> tuple[str, str]:
    call = "--call " if target.factory else ""
    return (
        f"{_env(target)}waitress-serve --listen=0.0.0.0:$PORT {call}{_spec(target)}",
        f"waitress {_spec(target)}",
    )


ASGI_COMMANDS: _Commands = {
    "uvicorn-worker": lambda target: _gunicorn(target, "uvicorn_worker.UvicornWorker", "uvicorn"),
    "granian": _granian("asgi"),
    "daphne": _daphne,
    "hypercorn": _hypercorn,
    "uvicorn": _uvicorn,
}
WSGI_COMMANDS: _Commands = {"gunicorn": _gunicorn, "waitress": _waitress, "granian": _granian("wsgi")}
# Declared servers are tried in these orders. The rarer a server is as another package's dependency, the
# likelier declaring it was a choice, so it goes first: uvicorn arrives with fastapi[standard], hypercorn
# with Quart, daphne with channels[daphne]; nothing pulls in granian, and uvicorn-worker means "gunicorn
# with uvicorn workers" on purpose.


def _serve_asgi(requirements: Requirements, target: _Target) -> _Served:
    return _serve(requirements, target, ASGI_COMMANDS, "uvicorn")


def _serve_wsgi(requirements: Requirements, target: _Target) -> _Served:
    return _serve(requirements, target, WSGI_COMMANDS, "gunicorn")


# Django -------------------------------------------------------------------------------------------------

BUILD_SECRET = "dockyard-build-only-not-secret"
"""A throwaway SECRET_KEY for collectstatic at build time: settings often refuse to import without one."""

COLLECTSTATIC = "python manage.py collectstatic --noinput"
MIGRATE = "python manage.py migrate --noinput"
ASGI_SIGNS = ("channels", "daphne", "uvicorn")
"""Packages that show a Django app with both settings means its ASGI_APPLICATION to be served."""


def _detect_django(tree: FileTree, requirements: Requirements) -> Detection | None:
    if "manage.py" not in tree:
        return None
    settings_module = _django_settings_module(tree["manage.py"])
    if settings_module is None:
        raise BuildError(
            "found manage.py but no DJANGO_SETTINGS_MODULE default in it: Dockyard reads "
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', '…') to find the settings"
        )
    files = _django_settings_files(tree, settings_module)
    wsgi = _django_setting(tree, files, "WSGI_APPLICATION")
    asgi = _django_setting(tree, files, "ASGI_APPLICATION")
    sign = next((package for package in ASGI_SIGNS if package in requirements), None)
    reasons = [f"found manage.py with DJANGO_SETTINGS_MODULE={settings_module}"]
    if asgi is not None and (wsgi is None or sign is not None):
        path, value = asgi
        served = _serve_asgi(requirements, _django_target(value))
        why = f" and {sign} in the requirements" if sign else " (and no WSGI_APPLICATION)"
        reasons.append(f"found ASGI_APPLICATION = {value!r} in {path}{why} → Django (ASGI) → {served.label}")
    elif wsgi is not None:
        path, value = wsgi
        served = _serve_wsgi(requirements, _django_target(value))
        reasons.append(f"found WSGI_APPLICATION = {value!r} in {path} → Django → {served.label}")
        if asgi is not None:
            reasons.append(
                f"ASGI_APPLICATION is set too, but none of {', '.join(ASGI_SIGNS)} is in the requirements "
                "→ serving WSGI"
            )
    else:
        raise BuildError(
            f"found manage.py with settings {settings_module} but no WSGI_APPLICATION or ASGI_APPLICATION in "
            f"{', '.join(files)}: Dockyard serves Django through one of them; set, for example, "
            f"WSGI_APPLICATION = '{settings_module.partition('.')[0]}.wsgi.application'"
        )
    reasons.extend(served.reasons)
    # Anywhere in the file: settings often set STATIC_ROOT under `if not DEBUG:`.
    static_root = next((file for file in files if "STATIC_ROOT" in assigned_names(parse(tree[file]))), None)
    if static_root is None:
        reasons.append(
            f"no STATIC_ROOT in {files[0]} → skipping collectstatic; set STATIC_ROOT to have Dockyard "
            "collect static files at build time"
        )
    else:
        reasons.append(f"found STATIC_ROOT in {static_root} → {COLLECTSTATIC} at build time")
    reasons.append(f"Django → release: {MIGRATE} before each deploy")
    return Detection(
        framework="django",
        command=served.command,
        reasons=tuple(reasons),
        extra_packages=served.extra_packages,
        build_commands=(COLLECTSTATIC,) if static_root else (),
        build_env={"SECRET_KEY": BUILD_SECRET, "DJANGO_SECRET_KEY": BUILD_SECRET} if static_root else {},
        release=MIGRATE,
    )


def _django_settings_module(manage_py: str) -> str | None:
    module = parse(manage_py)
    for node in walk(module):
        if (
            isinstance(node, ast.Call)
            and callee_name(node) == "setdefault"
            and len(node.args) == 2
            and str_value(node.args[0]) == "DJANGO_SETTINGS_MODULE"
        ):
            value = str_value(node.args[1])
            if value is not None:
                return value
    return None


def _django_settings_files(tree: FileTree, settings_module: str) -> list[str]:
    """The settings module's file, then, in a settings package, its siblings: split settings
    (`settings/production.py` importing `settings/base.py`) set things in a sibling module."""
    path = settings_module.replace(".", "/")
    files = [p for p in (f"{path}.py", f"{path}/__init__.py") if p in tree]
    if not files:
        raise BuildError(
            f"found manage.py with DJANGO_SETTINGS_MODULE={settings_module} but no "
            f"{module_path(settings_module)} or {path}/__init__.py: point DJANGO_SETTINGS_MODULE in "
            "manage.py at the settings module"
        )
    directory = files[0].rpartition("/")[0]
    if "settings" not in directory.rpartition("/")[2]:
        return files  # a plain settings.py: its siblings are urls.py and wsgi.py, not settings
    siblings = sorted(p for p in tree if p.rpartition("/")[0] == directory and p.endswith(".py"))
    return list(dict.fromkeys(files + siblings))


def _django_setting(tree: FileTree, files: list[str], name: str) -> tuple[str, str] | None:
    """(file, value) of the first string assigned to setting `name` at the top level of `files`."""
    for file in files:
        for assigned, value in module_assignments(parse(tree[file])):
            text = str_value(value)
            if assigned == name and text is not None:
                return file, text
    return None


def _django_target(dotted: str) -> _Target:
    module, _, name = dotted.rpartition(".")
    return _Target(module, name)


# App objects --------------------------------------------------------------------------------------------

APP_FILES = (
    "main.py",
    "app.py",
    "api.py",
    "server.py",
    "application.py",
    "asgi.py",
    "wsgi.py",
    "app/__init__.py",
    "app/main.py",
    "app/app.py",
    "api/main.py",
    "api/app.py",
    "src/*/main.py",
    "src/*/app.py",
    "src/*/__init__.py",
    "*/main.py",
    "*/app.py",
    "*/__init__.py",
)
"""Where app objects are looked for, in order; `*` is one directory (a package)."""

FACTORY_NAMES = ("create_app", "make_app", "get_app", "build_app", "app_factory", "get_application")
"""Top-level functions served as app factories when a file has no app object."""


@dataclass(frozen=True)
class _App:
    path: str
    target: _Target
    found: str  # for the reason line: "`app = FastAPI()`", "a `create_app()` factory"


def _find_app(tree: FileTree, constructors: tuple[str, ...], package: str) -> _App | None:
    """The first module-level app object built by one of `constructors` (directly or by a factory call)
    in a file importing `package`; else the first factory in `FACTORY_NAMES` that builds one."""
    paths = list(candidates(tree, APP_FILES))
    # An app object anywhere beats a factory: `wsgi.py` often calls the factory of `app/__init__.py`.
    for path in paths:
        module = parse(tree[path])
        for name, value in module_assignments(module):
            callee = callee_name(value) if isinstance(value, ast.Call) else None
            if callee is None:
                continue
            if (callee in constructors and imports(module, package)) or _builds_app(
                tree, path, callee, constructors, package
            ):
                return _App(path, _target(path, name), f"`{name} = {callee}()`")
    for path in paths:
        module = parse(tree[path])
        if not imports(module, package):
            continue
        for function in module_functions(module):
            if function.name in FACTORY_NAMES and calls_anywhere(function, *constructors):
                target = _target(path, function.name, factory=True)
                if isinstance(function, ast.AsyncFunctionDef):
                    target = _Target(target.module, target.name, target.app_dir, True, is_async=True)
                return _App(path, target, f"a `{function.name}()` factory")
    return None


def _builds_app(
    tree: FileTree, path: str, function: str, constructors: tuple[str, ...], package: str
) -> bool:
    """Whether `function`, defined in or imported by the file at `path`, calls one of `constructors`."""
    module = parse(tree[path])
    places: list[tuple[str, str]] = [(path, function)]
    for node in module.body if module is not None else ():
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == function:
                    places += [(file, alias.name) for file in imported_from(path, node) if file in tree]
    for file, name in places:
        source = parse(tree[file])
        if imports(source, package) and any(
            f.name == name and calls_anywhere(f, *constructors) for f in module_functions(source)
        ):
            return True
    return False


def _target(path: str, name: str, *, factory: bool = False) -> _Target:
    module, app_dir = import_path(path)
    return _Target(module, name, app_dir, factory)


@dataclass(frozen=True)
class _Framework:
    """A framework found by its app object: which constructors build one, and how it is served."""

    name: str  # as users write it: "FastAPI"
    package: str  # what its modules import
    constructors: tuple[str, ...]
    serve: Callable[[Requirements, _App, ast.Module | None], _Served]
    shown: str = ""  # the constructor as users write it, when its bare name is ambiguous

    def detect(self, tree: FileTree, requirements: Requirements) -> Detection | None:
        app = _find_app(tree, self.constructors, self.package)
        if app is None:
            return None
        served = self.serve(requirements, app, parse(tree[app.path]))
        return Detection(
            framework=self.name.lower(),
            command=served.command,
            reasons=(f"found {app.path} with {app.found} → {self.name} → {served.label}", *served.reasons),
            extra_packages=served.extra_packages,
        )

    def detector(self) -> Detector:
        looks_for = self.shown or " or ".join(f"`app = {c}()`" for c in self.constructors)
        return Detector(self.name.lower(), looks_for, self.detect)


def _asgi(requirements: Requirements, app: _App, module: ast.Module | None) -> _Served:
    return _serve_asgi(requirements, app.target)


def _wsgi(requirements: Requirements, app: _App, module: ast.Module | None) -> _Served:
    return _serve_wsgi(requirements, app.target)


def _falcon(requirements: Requirements, app: _App, module: ast.Module | None) -> _Served:
    # falcon.App is WSGI; falcon.asgi.App (imported as such) is ASGI.
    asgi = imports(module, "falcon.asgi")
    return (_serve_asgi if asgi else _serve_wsgi)(requirements, app.target)


def _sanic(requirements: Requirements, app: _App, module: ast.Module | None) -> _Served:
    # Sanic ships its own production server (multi-worker); it is installed with sanic itself.
    target = app.target
    factory = " --factory" if target.factory else ""
    return _Served(
        f"{_env(target)}sanic {_spec(target)}{factory} --host 0.0.0.0 --port $PORT", f"sanic {_spec(target)}"
    )


def _aiohttp(requirements: Requirements, app: _App, module: ast.Module | None) -> _Served:
    # gunicorn with aiohttp's worker serves an Application object and an (async) factory alike, with
    # gunicorn's process management; `python -m aiohttp.web` only takes a factory.
    command, label = _gunicorn(app.target, "aiohttp.GunicornWebWorker", "aiohttp")
    return _Served(command, label, () if "gunicorn" in requirements else ("gunicorn",))


FASTAPI = _Framework("FastAPI", "fastapi", ("FastAPI",), _asgi)
STARLETTE = _Framework("Starlette", "starlette", ("Starlette",), _asgi)
LITESTAR = _Framework("Litestar", "litestar", ("Litestar",), _asgi)
QUART = _Framework("Quart", "quart", ("Quart",), _asgi)
SANIC = _Framework("Sanic", "sanic", ("Sanic",), _sanic)
AIOHTTP = _Framework("aiohttp", "aiohttp", ("Application",), _aiohttp, "`app = web.Application()`")
FALCON = _Framework("Falcon", "falcon", ("App", "API"), _falcon, "`app = falcon.App()` or `asgi.App()`")
BOTTLE = _Framework("Bottle", "bottle", ("Bottle", "default_app"), _wsgi, "`app = Bottle()`")
FLASK = _Framework("Flask", "flask", ("Flask",), _wsgi)


# A bare ASGI or WSGI callable ---------------------------------------------------------------------------

CALLABLE_NAMES = ("application", "app")


def _callable_detector(interface: str) -> Detector:
    patterns = (f"{interface}.py", f"*/{interface}.py")

    def detect(tree: FileTree, requirements: Requirements) -> Detection | None:
        for path in candidates(tree, patterns):
            defined = _defined_names(parse(tree[path]))
            name = next((n for n in CALLABLE_NAMES if n in defined), None)
            if name is None:
                continue
            target = _target(path, name)
            served = (_serve_asgi if interface == "asgi" else _serve_wsgi)(requirements, target)
            return Detection(
                framework=interface,
                command=served.command,
                reasons=(
                    f"found {path} defining `{name}` → {interface.upper()} callable → {served.label}",
                    *served.reasons,
                ),
                extra_packages=served.extra_packages,
            )
        return None

    names = " or ".join(f"`{name}`" for name in CALLABLE_NAMES)
    return Detector(interface, f"{names} in {' or '.join(patterns)}", detect)


def _defined_names(module: ast.Module | None) -> set[str]:
    """Names bound at the top level by assignment, def, class or `from … import`."""
    names = {name for name, _ in module_assignments(module)}
    for node in module.body if module is not None else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


FRAMEWORKS: tuple[Detector, ...] = (
    Detector("django", "manage.py", _detect_django),
    # FastAPI apps depend on Starlette, Litestar and Quart on their own stacks: the specific ones go first.
    FASTAPI.detector(),
    LITESTAR.detector(),
    QUART.detector(),
    STARLETTE.detector(),
    SANIC.detector(),
    AIOHTTP.detector(),
    FALCON.detector(),
    FLASK.detector(),
    BOTTLE.detector(),
    _callable_detector("asgi"),
    _callable_detector("wsgi"),
)
