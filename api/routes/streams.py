"""WebSockets that follow an app: its deployments' statuses, a deployment's log, its runtime logs.

They authenticate like HTTP (`Authorization: Bearer <token>`, or `?access_token=<token>` from browsers,
which cannot set headers on a WebSocket), or with the web UI's session cookie when the socket is opened
from this site's own pages, and need READ on the app. A refused socket is closed before it
is accepted, with 4000 + the HTTP status the same call would get (4401, 4403, 4404, 4422) and the
problem's detail as the reason. Messages are JSON objects with a `type`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import redis
import redis.asyncio
from anyio.abc import TaskGroup
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status
from sqlalchemy.orm import Session

from api.deps import SettingsDep
from api.services import deployment_feed, log_streams, operations, runtime_logs, web_sessions
from api.services.access import Permission, app_for
from api.services.deployment_events import DeploymentChange
from api.services.deployments import get_deployment
from api.services.runtime_logs import RuntimeLine
from api.services.tokens import authenticate
from core.db import session_scope
from core.errors import DockyardError, TemporaryError, Unauthorized
from core.models import App
from core.settings import Settings, get_settings

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["streams"])

T = TypeVar("T")
CLOSE_REASON_BYTES = 123  # the most a close frame carries
TRY_AGAIN_LATER = 1013


@router.websocket("/events/ws")
async def app_events(websocket: WebSocket, name: str, settings: SettingsDep) -> None:
    """Each status a deployment of the app takes: `{"type": "deployment", "id", "status"}`."""
    app_id = await _authorize(websocket, name, lambda _session, app: app.id)
    if app_id is None:
        return
    async with (
        _errors_closing(websocket),
        redis.asyncio.Redis.from_url(settings.redis_url) as client,
        deployment_feed.subscribed(client, settings, app_id) as changes,
    ):
        await websocket.accept()
        async with _following(websocket) as follower:
            async for change in changes:
                await follower.send(
                    {"type": "deployment", "id": change.deployment_id, "status": change.status}
                )


@router.websocket("/deployments/{deployment_id}/logs/ws")
async def deployment_log(
    websocket: WebSocket,
    name: str,
    deployment_id: int,
    settings: SettingsDep,
    offset: int = Query(0, ge=0, description="Lines you already have: send only the ones after them."),
) -> None:
    """The build and release log from `offset`: `{"type": "line", "offset", "text"}` (`offset` counts the
    lines sent so far: reconnect with it), `{"type": "status", "status"}` now and on each change, then
    `{"type": "end", "status"}` and a normal close once the log has ended."""
    app_id = await _authorize(
        websocket, name, lambda session, app: get_deployment(session, app, deployment_id).app_id
    )
    if app_id is None:
        return
    async with (
        _errors_closing(websocket),
        redis.asyncio.Redis.from_url(settings.redis_url) as client,
        deployment_feed.subscribed(client, settings, app_id) as changes,
    ):
        current = await anyio.to_thread.run_sync(log_streams.snapshot, settings, deployment_id)
        if current is None:
            await websocket.close(code=4404, reason=f"deployment {deployment_id} was deleted")
            return
        await websocket.accept()
        async with _following(websocket) as follower:
            statuses = _StatusPush(follower, deployment_id, current.status)
            await statuses.send(current.status)
            follower.group.start_soon(statuses.run, changes)
            async for line in log_streams.follow_log(
                client, settings, deployment_id=deployment_id, offset=offset
            ):
                await follower.send({"type": "line", "offset": line.offset, "text": line.text})
            ended = await log_streams.final_status(settings, deployment_id, statuses.last)
            await follower.send({"type": "end", "status": ended})
            await follower.close()


@router.websocket("/logs/ws")
async def runtime_log(
    websocket: WebSocket,
    name: str,
    settings: SettingsDep,
    process: str | None = Query(None, description="One process type (web, worker…); default: all."),
    tail: int | None = Query(
        None,
        ge=0,
        le=10_000,
        description="Lines to start with, per container; default 100, or all after `since`.",
    ),
    since: str | None = Query(
        None, description="The `time` of the last line you have: resume after it, without a repeat."
    ),
) -> None:
    """What the app's containers write, as they write it: `{"type": "line", "time", "source", "text"}`,
    `time` with the engine's nanoseconds, which `since=` takes to resume."""

    def check(session: Session, app: App) -> str:
        if process is not None:
            operations.check_process(session, app, process)
        if since is not None:
            runtime_logs.resume_point(since)
        return app.name

    app_name = await _authorize(websocket, name, check)
    if app_name is None:
        return
    wanted = tail if tail is not None else runtime_logs.default_tail(since)
    async with _errors_closing(websocket):
        await websocket.accept()
        with closing(_runtime_lines(settings, app_name, process, wanted, since)) as lines:
            async with _following(websocket) as follower:
                # Each read waits at most a second in a worker thread (an idle tick), so a client that
                # went away frees its thread within a second.
                while (line := await anyio.to_thread.run_sync(next, lines, _GONE)) is not _GONE:
                    if isinstance(line, RuntimeLine):
                        await follower.send(
                            {"type": "line", "time": line.time, "source": line.source, "text": line.text}
                        )


_GONE = object()  # `next` cannot raise StopIteration across a thread


def _runtime_lines(
    settings: Settings, app: str, process: str | None, tail: int | None, since: str | None
) -> Generator[RuntimeLine | None]:
    with operations.engine(settings) as runtime:
        yield from runtime_logs.follow_lines(runtime, app, process=process, tail=tail, since=since)


async def _authorize(websocket: WebSocket, name: str, find: Callable[[Session, App], T]) -> T | None:
    """`find`'s answer for app `name` when the caller may read it; otherwise the socket is refused, None."""
    try:
        return await anyio.to_thread.run_sync(
            _authorized, _token(websocket), _web_session(websocket), name, find
        )
    except DockyardError as error:
        await websocket.close(code=4000 + error.status, reason=_reason(error.detail))
        return None


def _authorized(
    token: str | None, web_session: str | None, name: str, find: Callable[[Session, App], T]
) -> T:
    if token is None and web_session is None:
        raise Unauthorized(
            "send `Authorization: Bearer <token>`, or `?access_token=<token>` where headers cannot be set"
        )
    with session_scope() as session:
        if token is not None:
            principal = authenticate(session, token)
        else:
            assert web_session is not None
            principal = web_sessions.principal_for(session, web_session)
        return find(session, app_for(session, principal, name, Permission.READ))


def _token(websocket: WebSocket) -> str | None:
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return websocket.query_params.get("access_token") or None


def _web_session(websocket: WebSocket) -> str | None:
    """The web UI's session cookie, honoured only when this site's own page opened the socket: a page on
    another site would otherwise read the logs with the visitor's cookie."""
    cookie = websocket.cookies.get(web_sessions.COOKIE_NAME)
    origin = websocket.headers.get("origin")
    if not cookie or origin is None:
        return None
    settings = get_settings()
    return (
        cookie
        if web_sessions.trusted_origin(origin, websocket.headers.get("host", ""), settings.public_url)
        else None
    )


@asynccontextmanager
async def _errors_closing(websocket: WebSocket) -> AsyncIterator[None]:
    """Close the socket saying why when Redis or the engine fails, rather than with a bare 1011."""
    try:
        yield
    except* redis.RedisError:
        await websocket.close(
            code=TRY_AGAIN_LATER, reason="Redis does not answer; reconnect (with your offset) later"
        )
    except* DockyardError as errors:
        error = errors.exceptions[0]
        assert isinstance(error, DockyardError)
        temporary = isinstance(error, TemporaryError)
        code = TRY_AGAIN_LATER if temporary else status.WS_1011_INTERNAL_ERROR
        await websocket.close(code=code, reason=_reason(error.detail))


@dataclass
class _Follower:
    """An accepted socket being written to while a task watches for the client going away."""

    websocket: WebSocket
    group: TaskGroup
    lock: anyio.Lock
    closed: bool = False

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message; when the client has gone, stop everything that follows it."""
        async with self.lock:
            if self.closed:
                return
            try:
                await self.websocket.send_json(message)
            except WebSocketDisconnect:
                self.closed = True
                self.group.cancel_scope.cancel()

    async def close(self) -> None:
        """Close normally and stop."""
        async with self.lock:
            if not self.closed:
                self.closed = True
                await self.websocket.close(code=status.WS_1000_NORMAL_CLOSURE)
        self.group.cancel_scope.cancel()


@asynccontextmanager
async def _following(websocket: WebSocket) -> AsyncIterator[_Follower]:
    """A follower whose body (and the tasks it starts) is cancelled as soon as the client disconnects."""
    async with anyio.create_task_group() as group:
        group.start_soon(_watch_disconnect, websocket, group)
        yield _Follower(websocket, group, anyio.Lock())
        group.cancel_scope.cancel()


async def _watch_disconnect(websocket: WebSocket, group: TaskGroup) -> None:
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass  # clients have nothing to say; what they send is ignored
    group.cancel_scope.cancel()


@dataclass
class _StatusPush:
    """Sends a deployment's status each time it changes (once per status)."""

    follower: _Follower
    deployment_id: int
    last: str

    async def send(self, status: str) -> None:
        self.last = status
        await self.follower.send({"type": "status", "status": status})

    async def run(self, changes: AsyncIterator[DeploymentChange]) -> None:
        async for change in changes:
            if change.deployment_id == self.deployment_id and change.status != self.last:
                await self.send(change.status)


def _reason(detail: str) -> str:
    """`detail` cut to what a close frame carries."""
    return detail.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
