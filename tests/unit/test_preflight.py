"""The host-size check a start makes: one sentence saying what is too small and what to do."""

from __future__ import annotations

from api.services.preflight import GIB, host_too_small


def test_a_host_with_room_for_the_platform_and_a_build_fits() -> None:
    assert host_too_small(total_memory=4 * GIB, free_disk=20 * GIB, build_memory=2 * GIB) is None


def test_too_little_memory_says_how_much_is_needed_and_what_to_change() -> None:
    assert host_too_small(total_memory=GIB, free_disk=20 * GIB, build_memory=2 * GIB) == (
        "this host has 1.0 GiB of memory; Dockyard needs 3.0 GiB (1 GiB for its own processes and "
        "2.0 GiB for a build, DOCKYARD_BUILD_MEMORY): use a larger host or lower DOCKYARD_BUILD_MEMORY "
        "(at least 512m)"
    )


def test_a_smaller_build_cap_lets_a_2_gib_host_run() -> None:
    assert host_too_small(total_memory=2 * GIB, free_disk=20 * GIB, build_memory=GIB) is None


def test_too_little_free_disk_says_how_to_free_it() -> None:
    assert host_too_small(total_memory=8 * GIB, free_disk=GIB // 2, build_memory=2 * GIB) == (
        "only 0.5 GiB of disk is free where Dockyard keeps its data; it needs 3 GiB for images and builds: "
        "free some space (`docker image prune` removes unused images) or grow the disk"
    )
