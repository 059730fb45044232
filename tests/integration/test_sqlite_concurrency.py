"""SQLite as the embedded default: the API, a worker and beat write at once without "database is locked"."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import make_engine
from core.migrate import upgrade
from core.models import App, Deployment, DeploymentStatus, Team

WRITERS = 4
WRITES_EACH = 60


def write_many(url: str, writer: int) -> None:
    """What a busy process does: short transactions that read, then write (the pattern that deadlocks
    plain SQLite transactions when two of them upgrade their read locks at once)."""
    engine = make_engine(url)
    for n in range(WRITES_EACH):
        with Session(engine) as session, session.begin():
            app_id = session.scalar(select(App.id).where(App.name == "shared"))
            deployment = Deployment(app_id=app_id, trigger=f"w{writer}", ref=str(n))
            session.add(deployment)
            session.flush()
            deployment.status = DeploymentStatus.LIVE.value
    engine.dispose()


def test_concurrent_writers_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dockyard.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add(
            App(
                name="shared",
                team=Team(name="main"),
                repo_url="file:///x/o/r.git",
                repo_full_name="o/r",
                webhook_secret="x",
            )
        )

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=write_many, args=(url, writer)) for writer in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [process.exitcode for process in processes] == [0] * WRITERS
    with Session(engine) as session:
        live = session.scalar(select(func.count()).where(Deployment.status == DeploymentStatus.LIVE.value))
        assert live == WRITERS * WRITES_EACH
        assert session.execute(select(func.count()).select_from(Deployment)).scalar() == WRITERS * WRITES_EACH
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
