"""Pipenv: source trees in, whole Install plans (or the BuildError a user reads) out."""

from __future__ import annotations

import json

import pytest

from builder.managers import plan_install
from builder.plans import Install
from core.errors import BuildError
from tests.unit.managers import GENERATED, HASHED, UNHASHED

PIPFILE = """\
[[source]]
name = "pypi"
url = "https://pypi.org/simple"
verify_ssl = true

[dev-packages]

[packages]
fastapi = "==0.61.1"
pydantic = "==1.6.1"
python-multipart = "==0.0.5"
aiofiles = "==0.5.0"
uvicorn = "==0.12.1"
pylint = "==2.6.0"

[requires]
python_version = "3.8"
"""

PIPFILE_LOCK = {
    "_meta": {
        "hash": {"sha256": "398cb5b45844836f71e282b73a85914e953b7f9182a2c42de5c911b7f354d236"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.8"},
        "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
    },
    "default": {
        "colorama": {
            "hashes": [
                "sha256:7d73d2a99753107a36ac6b455ee49046802e59d9d076ef8e47b61499fa29afff",
                "sha256:e96da0d330793e2cb9485e9ddfd918d456036c7149416295932478192f4436a1",
            ],
            "markers": "sys_platform == 'win32'",
            "version": "==0.4.3",
        },
        "fastapi": {
            "hashes": [
                "sha256:61ed73b4304413a2ea618d1b95ea866ee386e0e62dd8659c4f5059286f4a39c2",
                "sha256:6cc31bb555dd8ca956d1d227477d661e4ac012337242a41d36214ffbda78bfe9",
            ],
            "index": "pypi",
            "version": "==0.61.1",
        },
        "uvicorn": {
            "hashes": [
                "sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2",
                "sha256:d06a25caa8dc680ad92eb3ec67363f5281c092059613a1cc0100acba37fc0f45",
            ],
            "index": "pypi",
            "version": "==0.12.1",
        },
    },
    "develop": {},
}


def test_pipenv_lock_up_to_date_with_its_pipfile() -> None:
    tree = {"Pipfile": PIPFILE, "Pipfile.lock": json.dumps(PIPFILE_LOCK, indent=4), "main.py": ""}

    assert plan_install(tree) == Install(
        manager="pipenv",
        manifests=("Pipfile", "Pipfile.lock"),
        commands=(HASHED,),
        generated={
            GENERATED: (
                "colorama==0.4.3 ; sys_platform == 'win32' \\\n"
                "    --hash=sha256:7d73d2a99753107a36ac6b455ee49046802e59d9d076ef8e47b61499fa29afff \\\n"
                "    --hash=sha256:e96da0d330793e2cb9485e9ddfd918d456036c7149416295932478192f4436a1\n"
                "fastapi==0.61.1 \\\n"
                "    --hash=sha256:61ed73b4304413a2ea618d1b95ea866ee386e0e62dd8659c4f5059286f4a39c2 \\\n"
                "    --hash=sha256:6cc31bb555dd8ca956d1d227477d661e4ac012337242a41d36214ffbda78bfe9\n"
                "uvicorn==0.12.1 \\\n"
                "    --hash=sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2 \\\n"
                "    --hash=sha256:d06a25caa8dc680ad92eb3ec67363f5281c092059613a1cc0100acba37fc0f45\n"
            )
        },
        requirements={"colorama": frozenset(), "fastapi": frozenset(), "uvicorn": frozenset()},
        reasons=(
            "found Pipfile.lock, up to date with Pipfile → exporting its default packages to "
            ".dockyard/requirements.txt",
        ),
    )


def test_pipenv_lock_with_extras_git_and_a_private_index() -> None:
    pipfile = (
        '[[source]]\nname = "acme"\nurl = "https://pypi.acme.example/simple"\nverify_ssl = true\n\n'
        '[packages]\nUvicorn = {version = "*", extras = ["standard"]}\n'
        'acme-auth = {git = "https://github.com/acme/auth.git", ref = "v2"}\n'
    )
    lock = {
        "_meta": {
            "hash": {"sha256": "to be replaced"},
            "pipfile-spec": 6,
            "requires": {},
            "sources": [{"name": "acme", "url": "https://pypi.acme.example/simple", "verify_ssl": True}],
        },
        "default": {
            "acme-auth": {
                "git": "https://github.com/acme/auth.git",
                "ref": "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d",
            },
            "uvicorn": {
                "extras": ["standard"],
                "hashes": ["sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2"],
                "version": "==0.12.1",
            },
        },
        "develop": {},
    }
    from builder.managers import pipfile_hashes

    # pipenv 2026 hashes canonical names (`uvicorn`), earlier ones the names as written (`Uvicorn`).
    for locked_hash in sorted(pipfile_hashes(pipfile)):
        lock["_meta"]["hash"] = {"sha256": locked_hash}
        install = plan_install({"Pipfile": pipfile, "Pipfile.lock": json.dumps(lock)})

        assert (install.commands, install.generated, install.requirements) == (
            (UNHASHED,),
            {
                GENERATED: (
                    "--index-url https://pypi.acme.example/simple\n"
                    "acme-auth @ git+https://github.com/acme/auth.git@9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d\n"
                    "uvicorn[standard]==0.12.1 \\\n"
                    "    --hash=sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2\n"
                )
            },
            {"acme-auth": frozenset(), "uvicorn": frozenset({"standard"})},
        )


def test_pipenv_lock_out_of_date() -> None:
    tree = {"Pipfile": PIPFILE.replace('pylint = "==2.6.0"\n', ""), "Pipfile.lock": json.dumps(PIPFILE_LOCK)}

    with pytest.raises(BuildError) as raised:
        plan_install(tree)

    assert str(raised.value) == "Pipfile.lock is out of date with Pipfile: run `pipenv lock` and commit it"


def test_pipfile_without_a_lock() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"Pipfile": PIPFILE, "requirements.txt": "fastapi\n"})

    assert str(raised.value) == "found Pipfile but no Pipfile.lock: run `pipenv lock` and commit Pipfile.lock"


def test_pipfile_lock_without_a_pipfile() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"Pipfile.lock": json.dumps(PIPFILE_LOCK)})

    assert str(raised.value) == "found Pipfile.lock but no Pipfile: commit Pipfile next to it"
