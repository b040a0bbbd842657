"""Two real OS processes storing the same articles at the same time, on SQLite and on
PostgreSQL: exactly one article row per URL and a consistent version chain."""

from __future__ import annotations

import itertools
import multiprocessing

from sqlalchemy import select

from archive.db import Archive
from archive.models import Article, ArticleVersion
from archive.store import content_hash
from tests import concurrent_writer


def test_two_processes_store_the_same_articles(db_url: str) -> None:
    Archive(db_url).close()  # migrated once, before the writers race
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    writers = [
        ctx.Process(target=concurrent_writer.write, args=(db_url, barrier, n)) for n in (1, 2)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=300)
    for process in writers:
        if process.is_alive():
            process.kill()
    assert [p.exitcode for p in writers] == [0, 0]

    last_round = concurrent_writer.ROUNDS - 1
    archive = Archive(db_url)
    with archive.session() as session:
        articles = session.scalars(select(Article).order_by(Article.url)).all()
        assert sorted(a.url for a in articles) == sorted(concurrent_writer.URLS)
        for article in articles:
            chain = session.scalars(
                select(ArticleVersion)
                .where(ArticleVersion.article_id == article.id)
                .order_by(ArticleVersion.id)
            ).all()
            hashes = [v.content_hash for v in chain]
            assert all(a != b for a, b in itertools.pairwise(hashes)), article.url
            assert article.current_version_id == chain[-1].id
            expected = content_hash(concurrent_writer.record(article.url, last_round))
            assert hashes[-1] == expected
            # Every distinct content was recorded, in order (1 version per two rounds).
            assert len(chain) >= concurrent_writer.ROUNDS // 2
    archive.close()
