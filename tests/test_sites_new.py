"""`wenhua sites new`: a reviewable definition proposed from a saved list and article page."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from crawler.demo_portal.server import resolve

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "tests" / "fixtures" / "extract" / "demo-hanweb-alt-subheading" / "page.html"


def test_proposal_finds_links_pagination_and_containers(tmp_path: Path) -> None:
    listing = tmp_path / "list.html"
    listing.write_bytes(resolve("/fengrun/col/col1661/index.html").body)
    out = tmp_path / "proposal.toml"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from archive.cli import main; main()",
            "sites",
            "new",
            "--url",
            "http://demo.wenhua.local/fengrun/col/col1661/index.html",
            "--article",
            str(ARTICLE),
            "--out",
            str(out),
            str(listing),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=True,
    )
    proposal = tomllib.loads(out.read_text(encoding="utf-8"))
    assert proposal["base_url"] == "http://demo.wenhua.local"
    assert proposal["list"]["article_links"][0].endswith(" a::attr(href)")
    assert "art_" in proposal["list"]["article_url_pattern"]
    assert proposal["list"]["next_page"]
    assert proposal["fields"]["body"] == ["div#zoom"]
    assert proposal["fields"]["title"][0].endswith("td.art-title::text")
    assert "太平路街道综合文化服务中心" in out.read_text(encoding="utf-8")
