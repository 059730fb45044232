"""Detection: read an app's source tree and decide how to build and run it.

Frameworks are an ordered registry (`DETECTORS`): the first detector that claims the tree wins, and it
says why in human lines that end up in the build log.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from builder.plans import BuildPlan, FileTree
from core.errors import BuildError

REQUIREMENTS = "requirements.txt"

Requirements = Mapping[str, frozenset[str]]
"""Requirement names declared by the app (canonicalized) → the extras asked for."""


@dataclass(frozen=True)
class Detection:
    """What a framework detector found: how to serve the app, and why."""

    framework: str
    command: str
    extra_packages: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Detector:
    """One entry of the registry; `looks_for` tells users what would make it claim their tree."""

    framework: str
    looks_for: str
    detect: Callable[[FileTree, Requirements], Detection | None]


def plan_build(tree: FileTree, *, default_python: str) -> BuildPlan:
    """Decide how to build the app in `tree`; raise BuildError saying what is missing when nothing fits."""
    if REQUIREMENTS not in tree:
        raise BuildError(
            f"no {REQUIREMENTS} found: Dockyard can build pip apps with a {REQUIREMENTS} "
            "at the repository root"
        )
    requirements = parse_requirements(tree[REQUIREMENTS])
    python_version, python_reason = _python_version(tree, default_python)
    detection = _first_claim(tree, requirements)
    return BuildPlan(
        python_version=python_version,
        framework=detection.framework,
        requirements=REQUIREMENTS,
        extra_packages=detection.extra_packages,
        processes={"web": detection.command},
        reasons=(
            python_reason,
            f"found {REQUIREMENTS} → pip",
            *detection.reasons,
            *(f"{package} is not in {REQUIREMENTS} → installing it" for package in detection.extra_packages),
        ),
    )


def _first_claim(tree: FileTree, requirements: Requirements) -> Detection:
    for detector in DETECTORS:
        detection = detector.detect(tree, requirements)
        if detection is not None:
            return detection
    looked_for = "; ".join(f"{d.looks_for} ({d.framework})" for d in DETECTORS)
    raise BuildError(f"found {REQUIREMENTS} but no web app Dockyard knows: it looks for {looked_for}")


def parse_requirements(text: str) -> Requirements:
    """The names (and extras) a requirements file declares; options, URLs and local paths are skipped."""
    declared: dict[str, frozenset[str]] = {}
    for line in _logical_lines(text):
        # Like pip: per-requirement options (`--hash=…`) start at the first token beginning with a dash,
        # and a line that starts with one (`-r`, `-e`, `--index-url`) names no requirement of its own.
        words: list[str] = []
        for word in line.split():
            if word.startswith("-"):
                break
            words.append(word)
        try:
            requirement = Requirement(" ".join(words))
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        extras = frozenset(extra.lower() for extra in requirement.extras)
        declared[name] = declared.get(name, frozenset()) | extras
    return declared


def _logical_lines(text: str) -> Iterator[str]:
    # pip joins backslash continuations, then drops comments that start a line or follow whitespace
    # (a `#` inside a URL, as in `#egg=`, is not a comment).
    joined = re.sub(r"\\\r?\n", "", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


def _python_version(tree: FileTree, default: str) -> tuple[str, str]:
    for path, prefix in ((".python-version", ""), ("runtime.txt", "python-")):
        if path in tree:
            declared = next(_logical_lines(tree[path]), "")
            match = re.fullmatch(rf"{prefix}(\d+\.\d+)(\.\d+)?", declared)
            if match is None:
                raise BuildError(
                    f"{path} says {declared!r}: Dockyard needs a CPython version like "
                    f"{prefix}{default} (or {prefix}{default}.1)"
                )
            return match[1], f"found {path} → Python {match[1]}"
    return default, f"no .python-version or runtime.txt → default Python {default}"


# Frameworks ---------------------------------------------------------------------------------------------


def _detect_django(tree: FileTree, requirements: Requirements) -> Detection | None:
    if "manage.py" not in tree:
        return None
    settings_module = _django_settings_module(tree["manage.py"])
    if settings_module is None:
        raise BuildError(
            "found manage.py but no DJANGO_SETTINGS_MODULE default in it: Dockyard reads "
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', '…') to find the settings"
        )
    found = _django_wsgi_application(tree, settings_module)
    if found is None:
        raise BuildError(
            f"found manage.py with settings {settings_module} but no WSGI_APPLICATION in "
            f"{_module_path(settings_module)}: Dockyard serves Django through it with gunicorn"
        )
    settings_path, wsgi_application = found
    module, _, name = wsgi_application.rpartition(".")
    target = module if name == "application" else f"{module}:{name}"  # gunicorn's default name
    command = f"gunicorn --bind 0.0.0.0:$PORT {target}"
    return Detection(
        framework="django",
        command=command,
        extra_packages=_unless_required(requirements, "gunicorn"),
        reasons=(
            f"found manage.py with DJANGO_SETTINGS_MODULE={settings_module}",
            f"found WSGI_APPLICATION = {wsgi_application!r} in {settings_path} → Django → gunicorn {target}",
        ),
    )


def _django_settings_module(manage_py: str) -> str | None:
    module = _parse(manage_py)
    if module is None:
        return None
    for node in ast.walk(module):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and _str_value(node.args[0]) == "DJANGO_SETTINGS_MODULE"
            and _str_value(node.args[1]) is not None
        ):
            return _str_value(node.args[1])
    return None


def _django_wsgi_application(tree: FileTree, settings_module: str) -> tuple[str, str] | None:
    """(path, value) of the WSGI_APPLICATION setting, looked for in the settings module, then beside it."""
    path = settings_module.replace(".", "/")
    files = [p for p in (f"{path}.py", f"{path}/__init__.py") if p in tree]
    # Split settings (`settings/production.py` importing `settings/base.py`) set it in a sibling module.
    for directory in [f.rpartition("/")[0] for f in files]:
        files += sorted(p for p in tree if p.rpartition("/")[0] == directory and p.endswith(".py"))
    for file in dict.fromkeys(files):
        for name, value in _module_assignments(_parse(tree[file])):
            wsgi_application = _str_value(value)
            if name == "WSGI_APPLICATION" and wsgi_application is not None:
                return file, wsgi_application
    return None


FASTAPI_FILES = ("main.py", "app.py", "api.py", "server.py", "app/main.py", "api/main.py", "src/*/main.py")


def _detect_fastapi(tree: FileTree, requirements: Requirements) -> Detection | None:
    found = _fastapi_app(tree)
    if found is None:
        return None
    path, name = found
    module, app_dir = _import_path(path)
    target = f"{module}:{name}"
    app_dir_option = f" --app-dir {app_dir}" if app_dir else ""
    return Detection(
        framework="fastapi",
        command=f"uvicorn {target}{app_dir_option} --host 0.0.0.0 --port $PORT",
        extra_packages=_unless_required(requirements, "uvicorn", bundled_by=("fastapi", "standard")),
        reasons=(f"found {path} with `{name} = FastAPI()` → FastAPI → uvicorn {target}",),
    )


def _fastapi_app(tree: FileTree) -> tuple[str, str] | None:
    """(path, name) of the first module-level `name = FastAPI(…)`."""
    for path in _candidates(tree, FASTAPI_FILES):
        for name, value in _module_assignments(_parse(tree[path])):
            if _calls(value, "FastAPI"):
                return path, name
    return None


FLASK_FILES = ("app.py", "wsgi.py", "main.py", "application.py", "app/__init__.py", "src/*/app.py")


def _detect_flask(tree: FileTree, requirements: Requirements) -> Detection | None:
    found = _flask_app(tree, list(_candidates(tree, FLASK_FILES)))
    if found is None:
        return None
    path, target, what = found
    app_dir = _import_path(path)[1]
    pythonpath_option = f" --pythonpath {app_dir}" if app_dir else ""
    return Detection(
        framework="flask",
        command=f"gunicorn{pythonpath_option} --bind 0.0.0.0:$PORT {target}",
        extra_packages=_unless_required(requirements, "gunicorn"),
        reasons=(f"found {path} with {what} → Flask → gunicorn {target}",),
    )


def _flask_app(tree: FileTree, paths: list[str]) -> tuple[str, str, str] | None:
    """(path, gunicorn target, what was found) for the first Flask app object, else the first factory."""
    # An app object anywhere beats a factory: `wsgi.py` often calls the factory of `app/__init__.py`.
    for path in paths:
        for name, value in _module_assignments(_parse(tree[path])):
            for callee in ("Flask", "create_app"):
                if _calls(value, callee):
                    return path, f"{_import_path(path)[0]}:{name}", f"`{name} = {callee}()`"
    for path in paths:
        module = _parse(tree[path])
        if module is not None and any(
            isinstance(node, ast.FunctionDef) and node.name == "create_app" for node in module.body
        ):
            return path, f"'{_import_path(path)[0]}:create_app()'", "a `create_app()` factory"
    return None


DETECTORS: tuple[Detector, ...] = (
    Detector("django", "manage.py", _detect_django),
    Detector("fastapi", f"`app = FastAPI()` in {', '.join(FASTAPI_FILES)}", _detect_fastapi),
    Detector("flask", f"`app = Flask()` or `create_app()` in {', '.join(FLASK_FILES)}", _detect_flask),
)


# Helpers ------------------------------------------------------------------------------------------------


def _unless_required(
    requirements: Requirements, server: str, *, bundled_by: tuple[str, str] | None = None
) -> tuple[str, ...]:
    """`(server,)` unless the app requires it, itself or through a (package, extra) that bundles it."""
    if server in requirements:
        return ()
    if bundled_by is not None and bundled_by[1] in requirements.get(bundled_by[0], frozenset()):
        return ()
    return (server,)


def _candidates(tree: FileTree, patterns: tuple[str, ...]) -> Iterator[str]:
    """Paths of `tree` matching `patterns` in pattern order; `*` matches one path segment."""
    for pattern in patterns:
        parts = pattern.split("/")
        yield from sorted(
            path
            for path in tree
            if len(path.split("/")) == len(parts)
            and all(fnmatchcase(part, want) for part, want in zip(path.split("/"), parts, strict=True))
        )


def _import_path(path: str) -> tuple[str, str | None]:
    """`app/main.py` → ("app.main", None); `src/pkg/main.py` → ("pkg.main", "src") for a src layout."""
    app_dir = None
    if path.startswith("src/"):
        app_dir, path = "src", path.removeprefix("src/")
    module = path.removesuffix(".py").removesuffix("/__init__")
    return module.replace("/", "."), app_dir


def _module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _parse(source: str) -> ast.Module | None:
    # A file this parser cannot read (newer syntax, a template) just does not claim the tree.
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _module_assignments(module: ast.Module | None) -> Iterator[tuple[str, ast.expr]]:
    """`(name, value)` for each top-level `name = value` or `name: T = value`."""
    for node in module.body if module is not None else ():
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            yield node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            yield node.target.id, node.value


def _calls(value: ast.expr, callee: str) -> bool:
    """Whether `value` is a call of `callee` or of `something.callee`."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    return (isinstance(func, ast.Name) and func.id == callee) or (
        isinstance(func, ast.Attribute) and func.attr == callee
    )


def _str_value(node: ast.expr) -> str | None:
    """The value of a string literal, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
