"""POST /webhooks/github: GitHub's push and ping deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import SessionDep, SettingsDep
from api.schemas import WebhookAnswer
from api.services.webhooks import forget_delivery, handle_github_delivery
from api.tasks import enqueue_deployments
from core.errors import TemporaryError

router = APIRouter(tags=["webhooks"])


@router.post("/webhooks/github", response_model=WebhookAnswer, responses={202: {"model": WebhookAnswer}})
async def github_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    x_github_event: str = Header(description="The event type, e.g. push or ping."),
    x_github_delivery: str = Header(description="The delivery's GUID; redeliveries repeat it."),
    x_hub_signature_256: str | None = Header(None),
    x_hub_signature: str | None = Header(None),
) -> JSONResponse:
    """Verify a GitHub delivery and act on it: 202 when it queued a deployment, else 200 with why not."""
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
    except TemporaryError:
        # The deployments are failed with the reason; a redelivery of this delivery must deploy again.
        forget_delivery(session, x_github_delivery)
        session.commit()
        raise
    answer = WebhookAnswer.model_validate(outcome, from_attributes=True)
    return JSONResponse(answer.model_dump(), status_code=202 if outcome.deployments else 200)
