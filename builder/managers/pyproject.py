"""Without a lockfile: a bare pyproject.toml, or setup.py / setup.cfg, installed with pip."""

from __future__ import annotations

import ast
import configparser

from builder.managers.export import GENERATED
from builder.managers.manifests import declare, frozen, load_toml, pep508_requirements
from builder.managers.pip import PIP_INSTALL_PROJECT, parse_requirements
from builder.managers.poetry import poetry_entries
from builder.plans import FileTree, Install, Requirements


def plan_pyproject(tree: FileTree) -> Install | None:
    if "pyproject.toml" not in tree:
        return None
    pyproject = load_toml(tree, "pyproject.toml")
    project = pyproject.get("project")
    poetry_dependencies = pyproject.get("tool", {}).get("poetry", {}).get("dependencies")
    buildable = "build-system" in pyproject or "setup.py" in tree or "setup.cfg" in tree
    if isinstance(project, dict) and "dependencies" in project.get("dynamic", []):
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(),
            project_commands=("pip install .",),
            requirements={},
            reasons=(
                "pyproject.toml declares its dependencies dynamic → pip install . resolves them as it builds",
            ),
        )
    if isinstance(project, dict):
        dependencies = [str(line) for line in project.get("dependencies", [])]
        requirements = pep508_requirements(dependencies, "pyproject.toml")
        command = f"pip install -r {GENERATED}"
        reasons = [
            f"found [project] dependencies in pyproject.toml and no lockfile → installing them with {command}"
        ]
        if buildable:
            reasons.append(f"the project declares how to build it → installing it with {PIP_INSTALL_PROJECT}")
        else:
            reasons.append("no [build-system] in pyproject.toml → the project itself is not installed")
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(command,) if dependencies else (),
            generated={GENERATED: "".join(f"{line}\n" for line in dependencies)} if dependencies else {},
            project_commands=(PIP_INSTALL_PROJECT,) if buildable else (),
            requirements=requirements,
            reasons=tuple(reasons),
        )
    if isinstance(poetry_dependencies, dict):
        declared: dict[str, set[str]] = {}
        for name, spec in poetry_dependencies.items():
            if name != "python":
                for entry in poetry_entries(spec):
                    if not entry.get("optional"):
                        declare(declared, name, entry.get("extras", []))
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(),
            project_commands=("pip install .",),
            requirements=frozen(declared),
            reasons=(
                "found [tool.poetry.dependencies] in pyproject.toml but no poetry.lock → "
                "pip install . builds the project with poetry-core and resolves its dependencies",
            ),
        )
    return None


def plan_setup_py(tree: FileTree) -> Install | None:
    found = [path for path in ("setup.py", "setup.cfg") if path in tree]
    if not found:
        return None
    return Install(
        manager="pip",
        manifests=(),
        commands=(),
        project_commands=("pip install .",),
        requirements=_setup_requirements(tree),
        reasons=(f"found {found[0]} → installing the project and its dependencies with pip install .",),
    )


def _setup_requirements(tree: FileTree) -> Requirements:
    """install_requires when written as a literal in setup.py or in setup.cfg; {} when computed."""
    lines: list[str] = []
    if "setup.cfg" in tree:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(tree["setup.cfg"])
            lines += parser.get("options", "install_requires", fallback="").splitlines()
        except configparser.Error:
            pass
    if "setup.py" in tree:
        try:
            module = ast.parse(tree["setup.py"])
        except (SyntaxError, ValueError):
            module = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(module):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "install_requires"
                and isinstance(node.value, ast.List)
            ):
                lines += [
                    item.value
                    for item in node.value.elts
                    if isinstance(item, ast.Constant) and isinstance(item.value, str)
                ]
    return parse_requirements("\n".join(lines))
