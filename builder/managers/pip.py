"""pip: requirements.txt, the files it pulls in with -r/-c, and the names they declare."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from packaging.requirements import InvalidRequirement, Requirement

from builder.managers.manifests import declare, frozen
from builder.plans import FileTree, Install, Requirements
from core.errors import BuildError

REQUIREMENTS = "requirements.txt"
PIP_INSTALL_PROJECT = "pip install --no-deps ."


def parse_requirements(text: str) -> Requirements:
    """The names (and extras) a requirements file declares; options, URLs and local paths are skipped."""
    declared: dict[str, set[str]] = {}
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
        declare(declared, requirement.name, requirement.extras)
    return frozen(declared)


def plan_pip(tree: FileTree) -> Install | None:
    if REQUIREMENTS not in tree:
        return None
    included = _included_files(tree, REQUIREMENTS)
    declared: dict[str, set[str]] = {}
    for path, is_constraint in included.items():
        if not is_constraint:
            for name, extras in parse_requirements(tree[path]).items():
                declare(declared, name, extras)
    command = f"pip install -r {REQUIREMENTS}"
    reasons = [f"found {REQUIREMENTS} → installing with {command}"]
    if len(included) > 1:
        reasons.append(f"{REQUIREMENTS} pulls in {', '.join(list(included)[1:])}")
    local = [
        path for path, is_constraint in included.items() if not is_constraint and _has_local_path(tree[path])
    ]
    if local:
        reasons.append(
            f"{local[0]} installs a local path (like -e .) → installing after the source is copied"
        )
    return Install(
        manager="pip",
        manifests=tuple(included),
        commands=() if local else (command,),
        project_commands=(command,) if local else (),
        requirements=frozen(declared),
        reasons=tuple(reasons),
    )


_INCLUDE = re.compile(r"(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=-r|-c))(\S+)")


def _included_files(tree: FileTree, path: str, is_constraint: bool = False) -> dict[str, bool]:
    """`path` and each file it pulls in with -r/-c, recursively, in order → whether it only constrains."""
    found = {path: is_constraint}
    for line in _logical_lines(tree[path]):
        match = _INCLUDE.match(line)
        if match is None or "://" in match[2]:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), match[2]))
        if target not in tree:
            raise BuildError(
                f"{path} includes {match[2]} ({match[1]}) but {target} is not in the repository: "
                "commit it or remove the line"
            )
        if target not in found:
            found |= {
                included: constraint
                for included, constraint in _included_files(
                    tree, target, match[1] in ("-c", "--constraint")
                ).items()
                if included not in found
            }
    return found


def _has_local_path(text: str) -> bool:
    """Whether a requirements file installs something from the source tree (`.`, `-e ./pkg`, `file:…`)."""
    for line in _logical_lines(text):
        target = re.sub(r"^(?:-e|--editable)(?:\s*=\s*|\s*)", "", line)
        if target.startswith((".", "/", "file:")) or re.search(r"@\s*file:", target):
            return True
    return False


def _logical_lines(text: str) -> Iterator[str]:
    # pip joins backslash continuations, then drops comments that start a line or follow whitespace
    # (a `#` inside a URL, as in `#egg=`, is not a comment).
    joined = re.sub(r"\\\r?\n", "", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line
