"""The few error types Dockyard raises; the API and CLI translate them at the edge."""

from __future__ import annotations


class DockyardError(Exception):
    """Base error: `detail` is a message a user can act on."""

    status = 500
    title = "Dockyard error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigError(DockyardError):
    """A bad setting or input; `where` names it (`processes.web.command`)."""

    status = 422
    title = "Invalid configuration"

    def __init__(self, detail: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {detail}" if where else detail)
        self.where = where


class BuildError(DockyardError):
    """The app's source could not be fetched, detected or built."""

    title = "Build failed"


class DeployError(DockyardError):
    """A built release could not be started or made live."""

    title = "Deploy failed"


class NotFound(DockyardError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not found"


class Conflict(DockyardError):
    """The request clashes with what exists (a duplicate name)."""

    status = 409
    title = "Conflict"


class Unauthorized(DockyardError):
    """Missing or bad credentials."""

    status = 401
    title = "Unauthorized"


class Forbidden(DockyardError):
    """The caller is known but their role or token scopes do not allow this."""

    status = 403
    title = "Forbidden"


class TooManyRequests(DockyardError):
    """The caller must slow down (repeated failed sign-ins)."""

    status = 429
    title = "Too many requests"


class TimedOut(DockyardError):
    """Something the user started ran past its time limit (a one-off command, a release command)."""

    status = 504
    title = "Timed out"


class TemporaryError(DockyardError):
    """Worth retrying later: an engine or proxy did not answer."""

    status = 503
    title = "Temporarily unavailable"
