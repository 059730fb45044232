"""Celery app using kombu's filesystem broker: web, worker and beat share the /data volume, no Redis."""

import os
from datetime import UTC, datetime
from pathlib import Path

from celery import Celery

DATA_DIR = Path(os.environ.get("DATA_DIR", "/data"))
BROKER_DIR = DATA_DIR / "broker"
PROCESSED_DIR = DATA_DIR / "processed"
DONE_FILE = DATA_DIR / "done.txt"

for folder in (BROKER_DIR, PROCESSED_DIR):
    os.makedirs(folder, exist_ok=True)

app = Celery("tasks")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(PROCESSED_DIR),
        # The default polls every second: a job's recorded time would lag its sending by up to that.
        "polling_interval": 0.1,
    },
    result_backend=None,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "tick-every-2-seconds": {
            "task": "tasks.record",
            "schedule": 2.0,
            "args": ("tick",),
        },
    },
)


@app.task
def record(name):
    """Append one line naming the job to the shared done file, with the time it ran (to the millisecond)."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    with open(DONE_FILE, "a", encoding="utf-8") as done:
        done.write(f"{stamp} {name}\n")
    return name
