"""The storage pipeline's writer thread (#10): items queued while a transaction runs are
committed together, and an item whose write fails takes nothing else with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import Archive
from archive.models import Site
from pipelines.storage import ArchiveWriter, Outcome


def _add_site(name: str) -> Any:
    def work(session: Session) -> Outcome:
        session.add(Site(name=name, title=name, family="test", base_url=f"http://{name}/"))
        session.flush()
        return Outcome(stats=[("added", 1)])

    return work


def _broken(session: Session) -> Outcome:
    session.add(Site(name="site-0", title="duplicate", family="test", base_url="http://x/"))
    session.flush()  # violates the unique site name: this item's write fails
    return Outcome()


def test_batches_commit_together_and_a_failing_item_loses_nothing_else(tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    writer = ArchiveWriter(archive, batch=64, deliver=lambda function, *args: function(*args))
    results: dict[int, Any] = {}
    works = [_add_site(f"site-{n}") for n in range(5)]
    works.insert(3, _broken)
    for position, work in enumerate(works):
        deferred = writer.submit(work)
        deferred.addBoth(lambda result, position=position: results.__setitem__(position, result))
    writer.start()  # everything is queued before the thread runs: one batch
    writer.finish()
    writer.join(timeout=60)
    assert not writer.is_alive()

    with archive.session() as session:
        names = sorted(session.scalars(select(Site.name)))
    assert names == [f"site-{n}" for n in range(5)]
    assert all(isinstance(results[p], Outcome) for p in (0, 1, 2, 4, 5))
    failure = results[3]
    assert "UNIQUE constraint failed" in str(failure.value)
    failure.trap(Exception)  # handled: don't report it as unhandled at garbage collection
    archive.close()


def test_one_transaction_for_what_queued_up(tmp_path: Path) -> None:
    archive = Archive(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    writer = ArchiveWriter(archive, batch=4, deliver=lambda function, *args: function(*args))
    for n in range(10):
        writer.submit(_add_site(f"site-{n}"))
    writer.start()
    writer.finish()
    writer.join(timeout=60)
    with archive.session() as session:
        assert len(list(session.scalars(select(Site.name)))) == 10
    assert writer.transactions == 3  # batches of 4, 4 and 2
    archive.close()
