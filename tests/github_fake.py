"""A stand-in for GitHub's REST API at the HTTP boundary: a real local server that answers the endpoints
Dockyard's GitHub App uses with GitHub's documented response shapes, checks the App's JWTs (RS256, signed
with the key handed out by the manifest conversion) and installation tokens, paginates with Link
headers, and records every request for assertions.

    with GitHubFake() as github:
        code = github.register(app_manifest(settings, name="dockyard"))  # the user's click on GitHub
        installation = github.install("octo", repositories=["octo/hello"])
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DOCS = "https://docs.github.com/rest"
HTML = "https://github.com"
NOT_FOUND = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
NOT_ACCESSIBLE = {
    "message": "Resource not accessible by integration",
    "documentation_url": DOCS,
    "status": "403",
}
COMMIT_STATES = {"error", "failure", "pending", "success"}
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}


@dataclass
class Call:
    """One request the fake received; `auth` is `jwt:<app id>`, `token:<installation id>` or None."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    auth: str | None = None
    status: int = 0


@dataclass
class Installation:
    id: int
    account: str
    account_type: str
    repositories: list[str]
    permissions: dict[str, str]
    selection: str = "selected"
    suspended_at: str | None = None


@dataclass
class Token:
    installation: Installation
    repositories: list[str]
    permissions: dict[str, str]
    expires_at: datetime


class Reply(Exception):
    """Ends a request with a status and a JSON body (GitHub's error shape)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class GitHubFake:
    calls: list[Call] = field(default_factory=list)
    installations: dict[int, Installation] = field(default_factory=dict)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.app: dict[str, Any] | None = None
        self.app_secrets: dict[str, str] = {}  # client_secret, webhook_secret and pem, as handed out
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, Token] = {}
        self._ids = iter(range(10_000, 10**9))
        self._lock = threading.Lock()
        self._key = _new_key()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GitHubFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What a person does on github.com, and what a test checks afterwards.

    def register(self, manifest: dict[str, Any], *, owner: str = "octo") -> str:
        """Submit the manifest form as a user would; returns the code GitHub appends to redirect_url."""
        code = secrets.token_hex(10)
        self._codes[code] = {"manifest": manifest, "owner": owner}
        return code

    def install(
        self,
        account: str,
        *,
        repositories: list[str],
        account_type: str = "Organization",
        permissions: dict[str, str] | None = None,
        selection: str = "selected",
    ) -> int:
        """Install the registered app on `account` with access to `repositories`; returns its id."""
        assert self.app is not None, "register and convert the app first"
        granted = permissions if permissions is not None else dict(self.app["permissions"])
        installation = Installation(next(self._ids), account, account_type, repositories, granted, selection)
        self.installations[installation.id] = installation
        return installation.id

    def revoke_private_key(self) -> None:
        """The app's owner deleted its private key: JWTs signed with it are refused from now on."""
        self._key = _new_key()

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [call for call in self.calls if call.method == method and call.path == path]

    # The HTTP side.

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict]:
        parts = urlsplit(target)
        body = json.loads(raw) if raw else None
        call = Call(method, parts.path, parse_qs(parts.query), headers, body)
        with self._lock:
            self.calls.append(call)
        try:
            for route_method, pattern, handler in self._routes():
                match = re.fullmatch(pattern, parts.path)
                if match and route_method == method:
                    status, answer, extra = handler(call, *match.groups())
                    break
            else:
                raise Reply(404, NOT_FOUND)
        except Reply as reply:
            status, answer, extra = reply.status, reply.body, reply.headers
        call.status = status
        return status, answer, extra

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any, dict]]]]:
        return [
            ("POST", r"/app-manifests/([^/]+)/conversions", self._convert),
            ("GET", r"/app/installations", self._list_installations),
            ("POST", r"/app/installations/(\d+)/access_tokens", self._create_token),
            ("GET", r"/installation/repositories", self._list_repositories),
            ("POST", r"/repos/([^/]+/[^/]+)/statuses/([^/]+)", self._create_status),
            ("POST", r"/repos/([^/]+/[^/]+)/deployments", self._create_deployment),
            ("POST", r"/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses", self._create_deployment_status),
        ]

    def _convert(self, call: Call, code: str) -> tuple[int, Any, dict]:
        registration = self._codes.pop(code, None)  # a code works once
        if registration is None:
            raise Reply(404, NOT_FOUND)
        manifest = registration["manifest"]
        name = manifest["name"]
        self.app = {
            "id": next(self._ids),
            "slug": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            "node_id": "A_kwDOAAAAAA",
            "client_id": f"Iv23li{secrets.token_hex(5)}",
            "owner": _account(self.url, registration["owner"], "User", 1),
            "name": name,
            "description": manifest.get("description", ""),
            "external_url": manifest["url"],
            "html_url": f"{HTML}/apps/{name.lower()}",
            "created_at": _now(),
            "updated_at": _now(),
            "permissions": dict(manifest.get("default_permissions", {})),
            "events": list(manifest.get("default_events", [])),
            "installations_count": 0,
        }
        self.app_secrets = {
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20),
            "pem": self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode(),
        }
        return 201, {**self.app, **self.app_secrets}, {}

    def _list_installations(self, call: Call) -> tuple[int, Any, dict]:
        self._app_jwt(call)
        items = [self._installation_json(i) for i in self.installations.values()]
        return self._page(call, items, lambda page: page)

    def _create_token(self, call: Call, installation_id: str) -> tuple[int, Any, dict]:
        self._app_jwt(call)
        installation = self.installations.get(int(installation_id))
        if installation is None:
            raise Reply(404, NOT_FOUND)
        body = call.body or {}
        names = [f"{installation.account}/{name}" for name in body.get("repositories", [])]
        permissions = body.get("permissions", installation.permissions)
        if not set(names) <= set(installation.repositories) or any(
            installation.permissions.get(key) not in (value, "write") for key, value in permissions.items()
        ):
            raise Reply(422, {"message": "The permissions requested are not granted to this installation."})
        token = f"ghs_{secrets.token_hex(18)}"
        self._tokens[token] = Token(
            installation,
            names or installation.repositories,
            permissions,
            datetime.now(UTC) + timedelta(hours=1),
        )
        answer = {
            "token": token,
            "expires_at": _now(hours=1),
            "permissions": permissions,
            "repository_selection": "selected" if names else installation.selection,
        }
        return 201, answer, {}

    def _list_repositories(self, call: Call) -> tuple[int, Any, dict]:
        token = self._token(call)
        items = [self._repository_json(name) for name in token.repositories]
        selection = token.installation.selection
        return self._page(
            call,
            items,
            lambda page: {"total_count": len(items), "repository_selection": selection, "repositories": page},
        )

    def _create_status(self, call: Call, full_name: str, sha: str) -> tuple[int, Any, dict]:
        self._repository_access(call, full_name, "statuses")
        body = call.body or {}
        if body.get("state") not in COMMIT_STATES or not re.fullmatch(r"[0-9a-f]{7,40}", sha):
            raise Reply(422, {"message": "Validation Failed", "documentation_url": DOCS})
        if len(body.get("description") or "") > 140:
            raise Reply(422, {"message": "description is too long (maximum is 140 characters)"})
        status = {
            "url": f"{self.url}/repos/{full_name}/statuses/{sha}",
            "avatar_url": "https://avatars.githubusercontent.com/in/1?v=4",
            "id": next(self._ids),
            "node_id": "SC_kwDOAAAAAA",
            "state": body["state"],
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "context": body.get("context", "default"),
            "created_at": _now(),
            "updated_at": _now(),
            "creator": self._bot(),
        }
        return 201, status, {}

    def _create_deployment(self, call: Call, full_name: str) -> tuple[int, Any, dict]:
        self._repository_access(call, full_name, "deployments")
        body = call.body or {}
        if not body.get("ref"):
            raise Reply(422, {"message": 'Invalid request.\n\n"ref" wasn\'t supplied.'})
        deployment_id = next(self._ids)
        repo_url = f"{self.url}/repos/{full_name}"
        environment = body.get("environment", "production")
        deployment = {
            "url": f"{repo_url}/deployments/{deployment_id}",
            "id": deployment_id,
            "node_id": "DE_kwDOAAAAAA",
            "sha": body["ref"],
            "ref": body["ref"],
            "task": body.get("task", "deploy"),
            "payload": body.get("payload", {}),
            "original_environment": environment,
            "environment": environment,
            "description": body.get("description"),
            "creator": self._bot(),
            "created_at": _now(),
            "updated_at": _now(),
            "statuses_url": f"{repo_url}/deployments/{deployment_id}/statuses",
            "repository_url": repo_url,
            "transient_environment": body.get("transient_environment", False),
            "production_environment": body.get("production_environment", environment == "production"),
            "performed_via_github_app": self.app,
        }
        self.deployments[deployment_id] = deployment
        return 201, deployment, {}

    def _create_deployment_status(self, call: Call, full_name: str, deployment: str) -> tuple[int, Any, dict]:
        self._repository_access(call, full_name, "deployments")
        found = self.deployments.get(int(deployment))
        if found is None or found["repository_url"] != f"{self.url}/repos/{full_name}":
            raise Reply(404, NOT_FOUND)
        body = call.body or {}
        if body.get("state") not in DEPLOYMENT_STATES:
            raise Reply(422, {"message": "Validation Failed", "documentation_url": DOCS})
        status = {
            "url": f"{found['url']}/statuses/{next(self._ids)}",
            "id": next(self._ids),
            "node_id": "DES_kwDOAAAAAA",
            "state": body["state"],
            "creator": self._bot(),
            "description": body.get("description", ""),
            "environment": body.get("environment", found["environment"]),
            "target_url": body.get("target_url", body.get("log_url", "")),
            "created_at": _now(),
            "updated_at": _now(),
            "deployment_url": found["url"],
            "repository_url": found["repository_url"],
            "environment_url": body.get("environment_url", ""),
            "log_url": body.get("log_url", ""),
            "performed_via_github_app": self.app,
        }
        return 201, status, {}

    # Authentication, as GitHub checks it.

    def _app_jwt(self, call: Call) -> None:
        scheme, _, credential = call.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.app is None:
            raise Reply(401, {"message": "A JSON web token could not be decoded", "documentation_url": DOCS})
        try:
            claims = jwt.decode(
                credential,
                self._key.public_key(),
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise Reply(401, {"message": f"A JSON web token could not be decoded ({error})"}) from None
        if str(claims["iss"]) != str(self.app["id"]) or claims["exp"] - claims["iat"] > 11 * 60:
            raise Reply(
                401, {"message": "'Issuer' claim ('iss') must be the app's id; expiry at most 10 min"}
            )
        call.auth = f"jwt:{claims['iss']}"

    def _token(self, call: Call) -> Token:
        scheme, _, credential = call.headers.get("authorization", "").partition(" ")
        token = self._tokens.get(credential) if scheme.lower() in ("token", "bearer") else None
        if token is None or token.expires_at < datetime.now(UTC):
            raise Reply(401, BAD_CREDENTIALS)
        call.auth = f"token:{token.installation.id}"
        return token

    def _repository_access(self, call: Call, full_name: str, permission: str) -> None:
        token = self._token(call)
        if full_name not in token.repositories:
            raise Reply(404, NOT_FOUND)
        if token.permissions.get(permission) != "write":
            raise Reply(403, NOT_ACCESSIBLE)

    # GitHub's shapes.

    def _page(self, call: Call, items: list[Any], wrap: Callable[[list[Any]], Any]) -> tuple[int, Any, dict]:
        per_page = min(int(call.query.get("per_page", ["30"])[0]), 100)
        page = int(call.query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if (rel in ("prev", "first") and page > 1) or (rel in ("next", "last") and page < last):
                query = urlencode({"per_page": per_page, "page": number})
                links.append(f'<{self.url}{call.path}?{query}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, wrap(items[(page - 1) * per_page : page * per_page]), headers

    def _installation_json(self, installation: Installation) -> dict[str, Any]:
        assert self.app is not None
        account = _account(self.url, installation.account, installation.account_type, installation.id + 1)
        return {
            "id": installation.id,
            "account": account,
            "repository_selection": installation.selection,
            "access_tokens_url": f"{self.url}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{self.url}/installation/repositories",
            "html_url": f"{HTML}/settings/installations/{installation.id}",
            "app_id": self.app["id"],
            "app_slug": self.app["slug"],
            "client_id": self.app["client_id"],
            "target_id": account["id"],
            "target_type": installation.account_type,
            "permissions": installation.permissions,
            "events": self.app["events"],
            "created_at": _now(),
            "updated_at": _now(),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": installation.suspended_at,
        }

    def _repository_json(self, full_name: str) -> dict[str, Any]:
        owner, name = full_name.split("/")
        api = f"{self.url}/repos/{full_name}"
        templates = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "hooks_url": "/hooks",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
        }
        counts = dict.fromkeys(
            ("forks", "forks_count", "stargazers_count", "watchers_count", "size", "open_issues_count"), 0
        )
        return {
            "id": zlib.crc32(full_name.encode()),
            "node_id": "R_kgDOAAAAAA",
            "name": name,
            "full_name": full_name,
            "owner": _account(self.url, owner, "Organization", 2),
            "private": True,
            "html_url": f"{HTML}/{full_name}",
            "description": None,
            "fork": False,
            "url": api,
            **{key: api + suffix for key, suffix in templates.items()},
            "git_url": f"git://github.com/{full_name}.git",
            "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"{HTML}/{full_name}.git",
            "svn_url": f"{HTML}/{full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "license": None,
            **counts,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": "main",
            "has_pages": False,
            "disabled": False,
            "archived": False,
            "visibility": "private",
            "pushed_at": _now(),
            "created_at": _now(),
            "updated_at": _now(),
        }

    def _bot(self) -> dict[str, Any]:
        assert self.app is not None
        return _account(self.url, f"{self.app['slug']}[bot]", "Bot", self.app["id"] + 1)


def _account(api: str, login: str, kind: str, account_id: int) -> dict[str, Any]:
    user = f"{api}/users/{login}"
    return {
        "login": login,
        "id": account_id,
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account_id}?v=4",
        "gravatar_id": "",
        "url": user,
        "html_url": f"{HTML}/{login}",
        "followers_url": f"{user}/followers",
        "following_url": f"{user}/following{{/other_user}}",
        "gists_url": f"{user}/gists{{/gist_id}}",
        "starred_url": f"{user}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{user}/subscriptions",
        "organizations_url": f"{user}/orgs",
        "repos_url": f"{user}/repos",
        "events_url": f"{user}/events{{/privacy}}",
        "received_events_url": f"{user}/received_events",
        "type": kind,
        "site_admin": False,
    }


def _now(*, hours: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _handler(fake: GitHubFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer, extra = fake.handle(self.command, self.path, headers, raw)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler
