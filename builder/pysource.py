"""Reading an app's Python source without running it: the AST helpers detection shares."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import lru_cache

from builder.plans import FileTree

IGNORED_DIRS = frozenset(
    {"tests", "test", "docs", "venv", ".venv", "node_modules", "site-packages", ".tox", ".git"}
)
"""Top-level or nested directories whose code never defines the app (tests, docs, vendored environments)."""


@lru_cache(maxsize=512)
def parse(source: str) -> ast.Module | None:
    """The module's AST, or None when this parser cannot read it.

    Cached because every detector reads the same few files; the tree is never mutated.
    """
    # A file this parser cannot read (newer syntax, a template) just does not claim the tree.
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def walk(node: ast.AST | None) -> Iterator[ast.AST]:
    """Every node inside `node` (none for a file that did not parse)."""
    return ast.walk(node) if node is not None else iter(())


def module_assignments(module: ast.Module | None) -> Iterator[tuple[str, ast.expr]]:
    """`(name, value)` for each top-level `name = value` or `name: T = value`."""
    for node in module.body if module is not None else ():
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            yield node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            yield node.target.id, node.value


def module_functions(module: ast.Module | None) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined at the top level of `module`."""
    for node in module.body if module is not None else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def assigned_names(module: ast.Module | None) -> Iterator[str]:
    """Every name or attribute assigned anywhere: `X = …` → X, `app.conf.x = …` and `a.x["k"] = …` → x."""
    for node in walk(module):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript):
                target = target.value
            if isinstance(target, ast.Name):
                yield target.id
            elif isinstance(target, ast.Attribute):
                yield target.attr


def calls(value: ast.AST, *callees: str) -> bool:
    """Whether `value` is a call of one of `callees`, or of `something.callee`."""
    return isinstance(value, ast.Call) and callee_name(value) in callees


def callee_name(call: ast.Call) -> str | None:
    """`f` for `f(…)` and `a.b.f(…)`, else None."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def calls_anywhere(node: ast.AST | None, *callees: str) -> bool:
    """Whether a call of one of `callees` appears anywhere inside `node`."""
    return any(calls(child, *callees) for child in walk(node))


def imports(module: ast.Module | None, package: str) -> bool:
    """Whether `module` imports `package` or one of its submodules, in either import form."""
    for node in walk(module):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            names = [node.module]
        else:
            continue
        if any(name == package or name.startswith(f"{package}.") for name in names):
            return True
    return False


def imported_from(path: str, node: ast.ImportFrom) -> tuple[str, ...]:
    """The files that `from … import` in the file at `path` may read, package or module, src layout or not."""
    prefix = "src/" if path.startswith("src/") else ""
    package = path.removeprefix(prefix).split("/")[:-1]
    if node.level:
        if node.level - 1 > len(package):
            return ()
        parts, roots = package[: len(package) - node.level + 1], [prefix]
    else:
        parts, roots = [], ["", "src/"]
    stem = "/".join([*parts, *(node.module.split(".") if node.module else [])])
    if not stem:
        return ()
    return tuple(f"{root}{stem}{suffix}" for root in roots for suffix in (".py", "/__init__.py"))


def str_value(node: ast.AST) -> str | None:
    """The value of a string literal, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def is_ignored(path: str) -> bool:
    """Whether `path` lies in a directory that never holds the app (tests, docs, a virtualenv)."""
    return any(part in IGNORED_DIRS for part in path.split("/")[:-1])


def candidates(tree: FileTree, patterns: tuple[str, ...]) -> Iterator[str]:
    """Paths of `tree` matching `patterns`, in pattern order, each once; `*` matches one path segment."""
    seen: set[str] = set()
    for pattern in patterns:
        parts = pattern.split("/")
        for path in sorted(tree):
            segments = path.split("/")
            if (
                path not in seen
                and not is_ignored(path)
                and len(segments) == len(parts)
                and all(fnmatchcase(part, want) for part, want in zip(segments, parts, strict=True))
            ):
                seen.add(path)
                yield path


def python_files(tree: FileTree) -> list[str]:
    """The tree's .py files outside ignored directories, shallowest first, so an app's own modules lead."""
    return sorted((path for path in tree if path.endswith(".py") and not is_ignored(path)), key=_depth_first)


def _depth_first(path: str) -> tuple[int, str]:
    return path.count("/"), path


def import_path(path: str) -> tuple[str, str | None]:
    """`app/main.py` → ("app.main", None); `src/pkg/main.py` → ("pkg.main", "src") for a src layout."""
    app_dir = None
    if path.startswith("src/"):
        app_dir, path = "src", path.removeprefix("src/")
    module = path.removesuffix(".py").removesuffix("/__init__")
    return module.replace("/", "."), app_dir


def module_path(module: str) -> str:
    """`site_cfg.settings` → `site_cfg/settings.py`."""
    return module.replace(".", "/") + ".py"
