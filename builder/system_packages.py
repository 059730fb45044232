"""Debian packages that common dependencies need on a python:X.Y-slim image (bookworm or trixie).

Only distributions without a Linux wheel, or that load a system library at run time, are listed, and only
with names that exist in both suites. Left out on purpose: lxml, Pillow, cryptography and psycopg2-binary
(their wheels bundle what they need); python-ldap (its library is libldap-2.5-0 in bookworm but libldap2 in
trixie, so list `libldap-dev libsasl2-dev gcc libc6-dev` in build.system_packages); GDAL (the Python
package must match the system libgdal's version, which packages alone cannot promise).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from builder.plans import Requirements, SystemPackages

# gcc only recommends libc6-dev, and slim images install without recommends: without it there is no stdio.h.
_COMPILER = ("gcc", "libc6-dev")

PACKAGES: Mapping[str, SystemPackages] = {
    # No Linux wheels: compiles against libpq with pg_config, which libpq-dev ships.
    "psycopg2": SystemPackages(build=("libpq-dev", *_COMPILER), runtime=("libpq5",)),
    # psycopg 3 without [binary] or [c] is pure Python and loads libpq with ctypes at run time.
    "psycopg": SystemPackages(runtime=("libpq5",)),
    # psycopg[c] (the psycopg-c sdist) compiles psycopg 3's C implementation against libpq.
    "psycopg-c": SystemPackages(build=("libpq-dev", *_COMPILER), runtime=("libpq5",)),
    # No Linux wheels: compiles against MariaDB's client library, found with pkg-config.
    "mysqlclient": SystemPackages(
        build=("default-libmysqlclient-dev", "pkg-config", *_COMPILER), runtime=("libmariadb3",)
    ),
    # No Linux wheels: compiles against cairo, found with pkg-config.
    "pycairo": SystemPackages(build=("libcairo2-dev", "pkg-config", *_COMPILER), runtime=("libcairo2",)),
}


def system_packages_for(
    requirements: Requirements, *, extra: Sequence[str] = ()
) -> tuple[SystemPackages, tuple[str, ...]]:
    """The Debian packages the requirements need, plus the user's `extra` ones, each stage sorted; and why.

    `extra` (the user's build.system_packages) goes into both stages: a user who names a package may need it
    to compile a dependency, to run the app, or both, and cannot say which.
    """
    build: set[str] = set(extra)
    runtime: set[str] = set(extra)
    reasons = []
    for name, asked_as in _needed(requirements):
        packages = PACKAGES[name]
        build.update(packages.build)
        runtime.update(packages.runtime)
        reasons.append(_reason(asked_as, packages))
    if extra:
        reasons.append(f"build.system_packages → apt: {' '.join(extra)} (build and runtime)")
    return SystemPackages(build=tuple(sorted(build)), runtime=tuple(sorted(runtime))), tuple(reasons)


def _needed(requirements: Requirements) -> Iterator[tuple[str, str]]:
    """Entries of PACKAGES the requirements call for, once each, with the requirement as the app wrote it."""
    seen = set()
    for name in sorted(requirements):
        extras = requirements[name]
        entry, asked_as = name, name
        if name == "psycopg" and "c" in extras:
            entry, asked_as = "psycopg-c", "psycopg[c]"
        elif name == "psycopg" and ("binary" in extras or "psycopg-binary" in requirements):
            continue  # psycopg-binary's wheel bundles libpq
        if entry in PACKAGES and entry not in seen:
            seen.add(entry)
            yield entry, asked_as


def _reason(asked_as: str, packages: SystemPackages) -> str:
    stages = []
    if packages.build:
        stages.append(f"{' '.join(packages.build)} (build)")
    stages.append(f"{' '.join(packages.runtime)} (runtime)")
    what = "builds from source" if packages.build else "loads a system library at run time"
    return f"{asked_as} {what} → apt: {', '.join(stages)}"
