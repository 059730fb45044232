"""Image garbage collection: keep the images of an app's last releases, remove the rest it owns."""

from __future__ import annotations

import docker
import docker.errors
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import labels
from core.models import App, Deployment, DeploymentStatus
from core.settings import Settings


def kept_images(session: Session, app: App, keep: int) -> set[str]:
    """The image tags of the app's last `keep` releases that went live: its rollback targets."""
    images = session.scalars(
        select(Deployment.image)
        .where(
            Deployment.app_id == app.id,
            Deployment.image.is_not(None),
            # Superseded with an image: it was live once (builds are superseded only before they start).
            Deployment.status.in_([DeploymentStatus.LIVE.value, DeploymentStatus.SUPERSEDED.value]),
        )
        .order_by(Deployment.id.desc())
        .limit(keep)
    )
    return {image for image in images if image}


def gc_images(client: docker.DockerClient, settings: Settings, app_name: str, keep: set[str]) -> list[str]:
    """Remove the app's images that are not in `keep`; returns what was removed.

    Only images labelled with this instance and app are touched. Of the untagged dependency-stage images,
    the newest stays: it is the layer cache of the next build. Images a container still uses are skipped.
    """
    owned = {"label": labels.label_filters(labels.owned(settings.instance, app_name))}
    removed = []
    for image in client.images.list(filters=owned):
        if image.tags and not set(image.tags) & keep and _remove(client, image.id):
            removed.extend(image.tags)
    stages = sorted(
        client.images.list(filters={**owned, "dangling": True}),
        key=lambda i: i.attrs["Created"],
        reverse=True,
    )
    for image in stages[1:]:
        if _remove(client, image.id):
            removed.append(image.short_id)
    return removed


def _remove(client: docker.DockerClient, image_id: str) -> bool:
    try:
        client.images.remove(image_id, force=False, noprune=False)
    except docker.errors.APIError:  # in use by a container (a rollback target running), or already gone
        return False
    return True
