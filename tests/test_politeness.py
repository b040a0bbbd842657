"""Politeness defaults and the knobs around them (#7): pure settings checks, no crawl."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request

from archive.config import resolve
from crawler.middlewares import BackoffRetryMiddleware
from crawler.runner import crawl_settings
from crawler.sitedefs import BUNDLED_DIR, SiteDefinitionError, load_site_file


def test_polite_by_default_and_robots_survive_no_politeness(tmp_path: Path) -> None:
    config = resolve(tmp_path, None)
    polite = crawl_settings(config, progress=False)
    assert polite.getbool("ROBOTSTXT_OBEY") and polite.getbool("AUTOTHROTTLE_ENABLED")
    assert 1 <= polite.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert polite.getfloat("DOWNLOAD_DELAY") >= 1 and polite.getint("DOWNLOAD_TIMEOUT") > 0
    assert "+http" in polite.get("USER_AGENT")  # names a contact URL
    fast = crawl_settings(config, polite=False, progress=False)
    assert fast.getbool("ROBOTSTXT_OBEY") and not fast.getbool("AUTOTHROTTLE_ENABLED")


def test_user_agent_from_option_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = resolve(tmp_path, None)
    monkeypatch.setenv("WENHUA_USER_AGENT", "from-env (+https://example.org/c)")
    assert crawl_settings(config).get("USER_AGENT") == "from-env (+https://example.org/c)"
    ua = "from-option (+https://example.org/o)"
    assert crawl_settings(config, user_agent=ua).get("USER_AGENT") == ua


def test_retry_backoff_doubles_and_is_capped() -> None:
    middleware = BackoffRetryMiddleware.__new__(BackoffRetryMiddleware)
    middleware.backoff, middleware.backoff_max = 2.0, 10.0
    delays = [middleware.delay(Request("http://x/", meta={"retry_times": n})) for n in (1, 2, 3, 4)]
    assert delays == [2.0, 4.0, 8.0, 10.0]


@pytest.mark.parametrize("value", ['"weekly"', "-1", "true"])
def test_revisit_days_is_validated(tmp_path: Path, value: str) -> None:
    text = (BUNDLED_DIR / "demo-trs-lubei.toml").read_text(encoding="utf-8")
    path = tmp_path / "demo-trs-lubei.toml"
    path.write_text(f"revisit_days = {value}\n" + text, encoding="utf-8")
    with pytest.raises(SiteDefinitionError, match="revisit_days"):
        load_site_file(path)


def test_revisit_days_defaults_to_a_week() -> None:
    assert load_site_file(BUNDLED_DIR / "demo-trs-lubei.toml").revisit_days == 7
