"""Docker SDK errors, translated into Dockyard's: an unreachable engine is temporary, a refusal is not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import docker.errors
import requests.exceptions

from core.errors import DeployError, TemporaryError


@contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate docker-py errors into Dockyard's: an unreachable engine is temporary, a refusal is not."""
    try:
        yield
    except docker.errors.ImageNotFound as error:
        raise DeployError(f"{action}: image not found on this engine ({error.explanation})") from error
    except docker.errors.APIError as error:
        raise DeployError(f"{action}: {error.explanation or error}") from error
    except requests.exceptions.RequestException as error:
        # docker-py lets the HTTP client's connection errors and timeouts through unwrapped.
        raise TemporaryError(f"{action}: the Docker engine did not answer ({error})") from error
