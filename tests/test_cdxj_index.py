"""The CDXJ index written beside each WARC file (pipelines.warc.write_cdxj): sorted and
complete even when it is larger than what is sorted in memory at a time."""

from __future__ import annotations

import random
from io import BytesIO
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import pipelines.warc
from pipelines.warc import write_cdxj


def _warc(path: Path, urls: list[str]) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for n, url in enumerate(urls):
            body = f"<html><body>page {n}</body></html>".encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=headers
            )
            writer.write_record(record)


@pytest.mark.parametrize("buffer", [200, 64 * 1024 * 1024])
def test_an_index_larger_than_the_sort_buffer_is_sorted_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buffer: int
) -> None:
    urls = [f"http://portal.example/news/{n}.html" for n in range(300)]
    random.Random(7).shuffle(urls)
    warc = tmp_path / "crawl-00001.warc.gz"
    _warc(warc, urls)
    monkeypatch.setattr(pipelines.warc, "CDXJ_SORT_BUFFER", buffer)
    lines = write_cdxj(warc).read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(urls)
    assert lines == sorted(lines)
    assert {line.split(" ", 1)[0] for line in lines} == {
        f"example,portal)/news/{n}.html" for n in range(300)
    }
