"""The OpenAPI document, made to say what the API really answers.

FastAPI documents errors as `application/json` validation bodies and knows nothing of bearer tokens. Here,
once, the generated document is corrected: every error response is `application/problem+json` (`Problem`),
routes that need a token carry the bearer scheme and its 401/403, routes with path parameters their 404,
routes with parameters their 422 and routes with a body their 400 (not JSON). Any other error a route can
give it declares itself: `responses=errors(409, 503)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from api.deps import current_principal
from api.problems import PROBLEM_JSON

BEARER = "bearerToken"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ProblemError(BaseModel):
    where: str = Field(description="The parameter or field, dotted (`events.0`); `body` for the whole body.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details: what every error answer carries."""

    type: str = Field("about:blank")
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(
        description="What went wrong and what to do next.",
        examples=["no app named 'hello'; `GET /api/v1/apps` lists yours"],
    )
    where: str | None = Field(None, description="The setting at fault, for an invalid configuration.")
    errors: list[ProblemError] | None = Field(None, description="Each invalid parameter, for a 422.")


ERRORS = {
    400: "The body could not be read as JSON.",
    401: "No valid bearer token: missing, unknown, expired or revoked.",
    403: "The token's scopes or your role in the team do not allow this.",
    404: "Nothing by that name that you can see (another team's app answers the same).",
    409: "It clashes with what exists or what is running; `detail` says what to do.",
    422: "A parameter or the body is invalid; `detail` (and `errors`, `where`) name what.",
    429: "Too many attempts; wait and retry.",
    502: "GitHub answered with an error; `detail` says which and what to do.",
    503: "A service Dockyard needs (Redis, the Docker engine, Caddy, GitHub) did not answer; retry.",
    504: "It ran past its time limit.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer these errors besides the ones every route documents."""
    return {status: {"description": ERRORS[status]} for status in statuses}


def install(app: FastAPI) -> None:
    """Serve the corrected document at /openapi.json (built once, on the first request)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = corrected(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def corrected(document: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """`document` with problem+json errors, the bearer scheme and each route's common errors."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: from `dockyard login`, `POST /api/v1/auth/token` or tokens.",
        }
    }
    for route in iter_route_contexts(list(routes)):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            _describe_errors(operation, route)
    return document


def _describe_errors(operation: dict[str, Any], route: RouteContext) -> None:
    responses: dict[str, Any] = operation["responses"]
    dependants = list(_walk(route.dependant))
    wanted = []
    if any(dependant.call is current_principal for dependant in dependants):
        operation["security"] = [{BEARER: []}]
        wanted += ["401", "403"]
    if any(dependant.path_params for dependant in dependants):
        wanted.append("404")
    if any(dependant.body_params for dependant in dependants):
        wanted.append("400")
    if "422" in responses:  # FastAPI documents it on every route that takes parameters or a body
        wanted.append("422")
    for status in wanted:
        responses.setdefault(status, {"description": ERRORS[int(status)]})
    if "422" in responses and responses["422"].get("description") == "Validation Error":
        responses["422"]["description"] = ERRORS[422]
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    operation["responses"] = dict(sorted(responses.items()))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)
