"""Labels and names that mark the Docker objects Dockyard owns."""

from __future__ import annotations

INSTANCE = "dockyard.instance"
APP = "dockyard.app"
SERVICE = "dockyard.service"
RELEASE = "dockyard.release"
REPLICA = "dockyard.replica"
ONE_OFF = "dockyard.one_off"
STOP_TIMEOUT = "dockyard.stop_timeout"
COMMIT = "dockyard.commit"
BUILT_AT = "dockyard.built_at"


def owned(instance: str, app: str | None = None, **extra: str) -> dict[str, str]:
    """Labels for an object owned by `instance` (and `app`), plus `extra` `dockyard.*` labels."""
    labels = {INSTANCE: instance}
    if app is not None:
        labels[APP] = app
    labels.update({f"dockyard.{key}": value for key, value in extra.items()})
    return labels


def label_filters(labels: dict[str, str]) -> list[str]:
    """Docker API `label` filters that match objects carrying every label given."""
    return [f"{key}={value}" for key, value in labels.items()]
