"""Debian packages for dependencies without usable wheels, compared whole with their reasons."""

from __future__ import annotations

from builder.plans import SystemPackages
from builder.system_packages import system_packages_for


def test_nothing_needed() -> None:
    assert system_packages_for({"django": frozenset(), "lxml": frozenset()}) == (SystemPackages(), ())


def test_psycopg2_builds_from_source() -> None:
    assert system_packages_for({"psycopg2": frozenset()}) == (
        SystemPackages(build=("gcc", "libc6-dev", "libpq-dev"), runtime=("libpq5",)),
        ("psycopg2 builds from source → apt: libpq-dev gcc libc6-dev (build), libpq5 (runtime)",),
    )


def test_psycopg2_binary_needs_nothing() -> None:
    assert system_packages_for({"psycopg2-binary": frozenset()}) == (SystemPackages(), ())


def test_pure_python_psycopg_loads_libpq() -> None:
    assert system_packages_for({"psycopg": frozenset({"pool"})}) == (
        SystemPackages(runtime=("libpq5",)),
        ("psycopg loads a system library at run time → apt: libpq5 (runtime)",),
    )


def test_psycopg_binary_needs_nothing() -> None:
    assert system_packages_for({"psycopg": frozenset({"binary"})}) == (SystemPackages(), ())
    assert system_packages_for({"psycopg": frozenset(), "psycopg-binary": frozenset()}) == (
        SystemPackages(),
        (),
    )


def test_psycopg_c_builds_once_however_asked() -> None:
    expected = (
        SystemPackages(build=("gcc", "libc6-dev", "libpq-dev"), runtime=("libpq5",)),
        ("psycopg[c] builds from source → apt: libpq-dev gcc libc6-dev (build), libpq5 (runtime)",),
    )
    assert system_packages_for({"psycopg": frozenset({"c", "binary"}), "psycopg-c": frozenset()}) == expected


def test_the_union_is_sorted_and_deduplicated_with_the_users_packages_in_both_stages() -> None:
    packages, reasons = system_packages_for(
        {"mysqlclient": frozenset(), "pycairo": frozenset(), "psycopg2": frozenset()},
        extra=("libmagic1", "libpq5"),
    )
    assert packages == SystemPackages(
        build=(
            "default-libmysqlclient-dev",
            "gcc",
            "libc6-dev",
            "libcairo2-dev",
            "libmagic1",
            "libpq-dev",
            "libpq5",
            "pkg-config",
        ),
        runtime=("libcairo2", "libmagic1", "libmariadb3", "libpq5"),
    )
    assert reasons == (
        "mysqlclient builds from source → apt: default-libmysqlclient-dev pkg-config gcc libc6-dev (build), "
        "libmariadb3 (runtime)",
        "psycopg2 builds from source → apt: libpq-dev gcc libc6-dev (build), libpq5 (runtime)",
        "pycairo builds from source → apt: libcairo2-dev pkg-config gcc libc6-dev (build), "
        "libcairo2 (runtime)",
        "build.system_packages → apt: libmagic1 libpq5 (build and runtime)",
    )
