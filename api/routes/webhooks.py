"""POST /webhooks/github: GitHub's deliveries, from the Dockyard GitHub App or an app's own webhook."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from api.deps import SessionDep, SettingsDep
from api.openapi import errors
from api.schemas import WebhookAnswer
from api.services.webhooks import forget_delivery, handle_github_delivery
from api.tasks import enqueue_deployments, enqueue_teardowns
from core.errors import TemporaryError

router = APIRouter(tags=["webhooks"])


class GitHubDeliveryAnswer(WebhookAnswer):
    decision: str | None = Field(
        None,
        description="What a delivery about no app in particular did, and why (installation events, the "
        "GitHub App's ping, a repository no app is connected to).",
    )


@router.post(
    "/webhooks/github",
    response_model=GitHubDeliveryAnswer,
    responses={202: {"model": GitHubDeliveryAnswer}, **errors(400, 401)},
)
async def github_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    x_github_event: str = Header(description="The event type: push, pull_request, installation, ping…"),
    x_github_delivery: str = Header(description="The delivery's GUID; redeliveries repeat it."),
    x_hub_signature_256: str | None = Header(None),
    x_hub_signature: str | None = Header(None),
) -> JSONResponse:
    """Verify a GitHub delivery and act on it: 202 when it queued work (a deployment, a preview's removal),
    else 200 with why not."""
    outcome = handle_github_delivery(
        session,
        settings=settings,
        event=x_github_event,
        delivery_id=x_github_delivery,
        signature_256=x_hub_signature_256,
        signature_1=x_hub_signature,
        body=await request.body(),
    )
    session.commit()
    try:
        enqueue_deployments(outcome.deployments)
        enqueue_teardowns(outcome.teardowns)
    except TemporaryError:
        # The deployments are failed with the reason; a redelivery of this delivery must act again.
        forget_delivery(session, x_github_delivery)
        session.commit()
        raise
    answer = GitHubDeliveryAnswer.model_validate(outcome, from_attributes=True)
    queued = outcome.deployments or outcome.teardowns
    return JSONResponse(answer.model_dump(), status_code=202 if queued else 200)
