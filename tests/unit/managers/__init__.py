"""Package managers: source trees in, whole Install plans (or the BuildError a user reads) out.

Lockfiles are trimmed from real ones: uv.lock from railpack's examples/python-fastapi, poetry.lock 1.1 from
nixpacks' examples/python-poetry, 2.1 from railpack's (Poetry 2.2.1), Pipfile and Pipfile.lock from
debjava/python-fastapi-pipenv (its `_meta.hash` is the one pipenv wrote), pdm.lock in PDM's 4.5 format.
"""

GENERATED = ".dockyard/requirements.txt"
HASHED = "pip install --no-deps --require-hashes -r .dockyard/requirements.txt"
UNHASHED = "pip install --no-deps -r .dockyard/requirements.txt"
