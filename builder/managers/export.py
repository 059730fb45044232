"""Exporting a lock to a hashed requirements file, so pip installs exactly what was locked."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.managers.markers import without_extras
from builder.plans import Install, Requirements

GENERATED = ".dockyard/requirements.txt"
PYPI_SIMPLE = ("https://pypi.org/simple", "https://pypi.org/simple/", "https://pypi.python.org/simple")


@dataclass
class Export:
    """Lines of the generated requirements file, and what keeps it from being installed hash-checked."""

    indexes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    unhashed: list[str] = field(default_factory=list)  # from git or a URL: nothing to check a hash against
    local: list[str] = field(default_factory=list)  # from a path in the repository: needs the source

    def add_index(self, url: str, *, first: bool = False) -> None:
        if url and url not in PYPI_SIMPLE:
            option = "--index-url" if first else "--extra-index-url"
            if option == "--extra-index-url" or not self.indexes:
                self.indexes.append(f"{option} {url}")

    def add(self, requirement: str, marker: str, hashes: Iterable[str], *, source: str = "registry") -> None:
        marker = without_extras(marker)
        line = f"{requirement} ; {marker}" if marker else requirement
        if source == "local":
            self.local.append(requirement)
        elif source == "url":
            self.unhashed.append(requirement.split()[0])
        hashes = sorted(set(hashes))
        if source == "registry" and not hashes:
            self.unhashed.append(requirement)
        self.lines.append(" \\\n    ".join([line, *(f"--hash={value}" for value in hashes)]))

    def add_poetry(self, package: Mapping[str, Any], marker: str, hashes: list[str]) -> None:
        name, version = package["name"], package["version"]
        source = package.get("source", {})
        kind, url = source.get("type"), source.get("url", "")
        subdirectory = f"#subdirectory={source['subdirectory']}" if source.get("subdirectory") else ""
        if kind == "git":
            reference = source.get("resolved_reference") or source.get("reference", "")
            self.add(f"{name} @ git+{url}@{reference}{subdirectory}", marker, (), source="url")
        elif kind == "url":
            self.add(f"{name} @ {url}{subdirectory}", marker, (), source="url")
        elif kind in ("directory", "file"):
            editable = "-e " if package.get("develop") else ""
            self.add(f"{editable}{_relative(url)}", marker, (), source="local")
        else:
            if kind == "legacy":
                self.add_index(url)
            self.add(f"{name}=={version}", marker, hashes)

    def add_pipenv(self, name: str, entry: Mapping[str, Any]) -> None:
        extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
        marker = str(entry.get("markers") or "")
        for vcs in ("git", "hg", "svn", "bzr"):
            if vcs in entry:
                url = entry[vcs] if entry[vcs].startswith(f"{vcs}+") else f"{vcs}+{entry[vcs]}"
                reference = f"@{entry['ref']}" if entry.get("ref") else ""
                subdirectory = f"#subdirectory={entry['subdirectory']}" if entry.get("subdirectory") else ""
                self.add(f"{name}{extras} @ {url}{reference}{subdirectory}", marker, (), source="url")
                return
        if "path" in entry or ("file" in entry and "://" not in entry["file"]):
            editable = "-e " if entry.get("editable") else ""
            self.add(f"{editable}{_relative(entry.get('path') or entry['file'])}", marker, (), source="local")
        elif "file" in entry:
            self.add(f"{name}{extras} @ {entry['file']}", marker, entry.get("hashes", []), source="url")
        else:
            self.add(f"{name}{extras}{entry.get('version', '')}", marker, entry.get("hashes", []))

    def add_pdm(self, package: Mapping[str, Any], hashes: list[str]) -> None:
        name, marker = package["name"], str(package.get("marker") or "")
        if "git" in package:
            revision = package.get("revision") or package.get("ref", "")
            subdirectory = f"#subdirectory={package['subdirectory']}" if package.get("subdirectory") else ""
            self.add(f"{name} @ git+{package['git']}@{revision}{subdirectory}", marker, (), source="url")
        elif "path" in package:
            editable = "-e " if package.get("editable") else ""
            self.add(f"{editable}{_relative(package['path'])}", marker, (), source="local")
        elif "url" in package:
            self.add(f"{name} @ {package['url']}", marker, (), source="url")
        else:
            self.add(f"{name}=={package['version']}", marker, hashes)

    def install(
        self,
        *,
        manager: str,
        manifests: tuple[str, ...],
        requirements: Requirements,
        reasons: tuple[str, ...],
        project: tuple[tuple[str, ...], str],
    ) -> Install:
        hashed = not self.unhashed and not self.local
        command = f"pip install --no-deps{' --require-hashes' if hashed else ''} -r {GENERATED}"
        all_reasons = [*reasons]
        if self.unhashed:
            all_reasons.append(
                f"{', '.join(self.unhashed)}: no hashes to check → installing without --require-hashes"
            )
        if self.local:
            all_reasons.append(
                f"{', '.join(self.local)}: a path in the repository → installing after the source is copied"
            )
        project_commands, project_reason = project
        if project_reason:
            all_reasons.append(project_reason)
        return Install(
            manager=manager,
            manifests=manifests,
            commands=() if self.local else (command,),
            generated={GENERATED: "".join(f"{line}\n" for line in (*self.indexes, *self.lines))},
            project_commands=((command,) if self.local else ()) + project_commands,
            requirements=requirements,
            reasons=tuple(all_reasons),
        )


def _relative(path: str) -> str:
    """A path from a lockfile as pip reads it in /build: `./libs/x`, or `.` for the project itself."""
    path = posixpath.normpath(path)
    return path if path == "." or path.startswith(("/", "../")) else f"./{path}"
