"""Site definitions: every bundled file loads, and a malformed file is refused with an
error naming the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from crawler.sitedefs import (
    BUNDLED_DIR,
    FAMILIES_DIR,
    SiteDefinitionError,
    UnknownSiteError,
    article_patterns,
    available_sites,
    load_families,
    load_family_file,
    load_site,
    load_site_file,
    site_for_url,
)

FIXTURES = Path(__file__).parent / "fixtures"
VALID = """
name = "{name}"
base_url = "http://example.gov.cn"
[[start]]
url = "/list/index.html"
category = "文化动态"
[list]
article_links = ["ul.list a::attr(href)"]
[fields]
title = ["h1::text"]
body = ["div.content"]
"""

# (replacement applied to VALID, key the error must name)
MALFORMED = [
    ('name = "{name}"', 'name = "other"', "'name'"),
    ('base_url = "http://example.gov.cn"', 'base_url = "example.gov.cn"', "'base_url'"),
    ('[[start]]\nurl = "/list/index.html"', "[[start]]\ncategory2 = 1", "'start[0].url'"),
    ('article_links = ["ul.list a::attr(href)"]', "article_links = 5", "'list.article_links'"),
    ('title = ["h1::text"]', 'title = ["h1::::text("]', "'fields.title'"),
    ('body = ["div.content"]', 'body = ["div.content"]\nbodyy = ["x"]', "'fields.bodyy'"),
    ("[list]", '[list]\narticle_url_pattern = "(["', "'list.article_url_pattern'"),
    ('body = ["div.content"]', "", "'fields.body'"),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace("{name}", name), encoding="utf-8")
    return path


def test_every_bundled_definition_loads() -> None:
    names = available_sites()
    assert "tsggwl" in names
    assert any(name.startswith("demo-") for name in names)
    for name in names:
        site = load_site(name)
        assert site.name == name
        assert site.start and site.fields.title and site.fields.body


def test_real_portal_is_marked_unchecked() -> None:
    assert load_site("tsggwl").checked is False


@pytest.mark.parametrize(("old", "new", "key"), MALFORMED)
def test_malformed_file_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in VALID
    path = write(tmp_path, "broken", VALID.replace(old, new))
    with pytest.raises(SiteDefinitionError) as err:
        load_site_file(path)
    message = str(err.value)
    assert str(path) in message
    assert key in message


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", "name = \n")
    with pytest.raises(SiteDefinitionError, match=r"bad\.toml: not valid TOML"):
        load_site_file(path)


def test_adding_a_portal_is_adding_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "my-county", VALID)
    monkeypatch.setenv("WENHUA_SITES", str(tmp_path))
    site = load_site("my-county")
    assert site.start[0].category == "文化动态"
    assert site.absolute("/list/index.html") == "http://example.gov.cn/list/index.html"


def test_unknown_site_lists_known_ones() -> None:
    with pytest.raises(UnknownSiteError, match=r"unknown site 'nosuch'.*known sites: .*tsggwl"):
        load_site("nosuch")


def test_site_for_url_matches_origin_and_pattern() -> None:
    site = site_for_url("http://demo.wenhua.local/new-13173.html")
    assert site is not None and site.name == "demo-culture-cloud"
    assert site_for_url("http://elsewhere.example/new-1.html") is None


def test_extract_uses_the_data_directorys_own_definitions(tmp_path: Path) -> None:
    """An inferred auto-<host> definition lives in DATA/sites/: `wenhua extract` finds it by
    --site and by URL, as `wenhua crawl` does."""
    sites = tmp_path / "data" / "sites"
    sites.mkdir(parents=True)
    bundled = (BUNDLED_DIR / "demo-culture-cloud.toml").read_text(encoding="utf-8")
    (sites / "auto-copy-example.toml").write_text(
        bundled.replace('name = "demo-culture-cloud"', 'name = "auto-copy-example"').replace(
            "http://demo.wenhua.local", "http://copy.example"
        ),
        encoding="utf-8",
    )
    page = FIXTURES / "extract" / "demo-culture-cloud-seed" / "page.html"
    data = str(tmp_path / "data")
    runner = CliRunner()
    for extra in (["--site", "auto-copy-example"], []):
        result = runner.invoke(
            cli,
            [
                "extract",
                "--data-dir",
                data,
                "--url",
                "http://copy.example/new-13173.html",
                *extra,
                str(page),
            ],
        )
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout.splitlines()[-1])
        assert record["site"] == "auto-copy-example"
        assert record["title"]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_non_finite_revisit_days_is_refused(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "broken", f"revisit_days = {value}\n" + VALID)
    with pytest.raises(SiteDefinitionError) as err:
        load_site_file(path)
    message = str(err.value)
    assert str(path) in message
    assert "'revisit_days'" in message
    assert "finite" in message


def test_family_gives_defaults_the_definition_overrides(tmp_path: Path) -> None:
    text = VALID.replace('base_url = "', 'family = "hanweb"\nbase_url = "')
    text = text.replace('body = ["div.content"]\n', "")
    site = load_site_file(write(tmp_path, "my-hanweb", text))
    assert site.fields.title == ("h1::text",)  # the definition's own
    assert site.fields.body == ("div#zoom",)  # the family's
    assert site.fields.published_at == ("xpath://meta[@name='PubDate']/@content",)
    assert site.list.article_links == ("ul.list a::attr(href)",)
    assert site.list.article_url_pattern is not None


def test_a_family_without_a_file_presets_nothing(tmp_path: Path) -> None:
    text = VALID.replace('base_url = "', 'family = "unknown"\nbase_url = "')
    site = load_site_file(write(tmp_path, "plain", text))
    assert site.family == "unknown"
    assert site.fields.published_at == ()


def test_every_family_loads_and_gives_article_url_shapes() -> None:
    families = load_families()
    assert {"trs", "hanweb", "culture-cloud"} <= {f.name for f in families}
    assert families[-1].catch_all and not families[0].catch_all
    patterns = article_patterns()
    assert patterns == tuple(p for f in families for p in f.article_urls)
    hanweb = "/fengrun/art/2020/11/2/art_1661_123.html"
    first = next(p for p in patterns if p.search(hanweb))
    assert first in load_family_file(FAMILIES_DIR / "hanweb.toml").article_urls


def test_malformed_family_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad-family.toml"
    path.write_text('title = "x"\n[defaults.fields]\nbody = ["div::::("]\n', encoding="utf-8")
    with pytest.raises(SiteDefinitionError) as err:
        load_family_file(path)
    assert str(path) in str(err.value) and "'defaults.fields.body'" in str(err.value)


# Selectors and patterns that compile but break (or hang) on the first page they meet.
REFUSED = [
    ('title = ["h1::text"]', 'title = ["xpath://h1[@id=$id]/text()"]', "variable $id"),
    ('title = ["h1::text"]', 'title = ["xpath://ns:h1/text()"]', "prefix"),
    ('title = ["h1::text"]', "title = [\"xpath://h1[@a=concat('$x', ns:y())]\"]", "'ns'"),
    ('title = ["h1::text"]', 'title = ["xpath://h1[upper-case(.)]"]', "upper-case()"),
    ('title = ["h1::text"]', 'title = ["svg|h1::text"]', "prefix"),
    ("[list]", "[list]\narticle_url_pattern = '^(/?\\w+)+\\.html$'", "exponential"),
    ("[list]", "[list]\narticle_url_pattern = '(a|b*)*c'", "exponential"),
    ("[list]", "[list]\narticle_url_pattern = '(?:/[\\w/]+)+\\.html'", "exponential"),
    # The pattern of an EXSLT regular-expression call inside XPath runs through Python's re.
    (
        'title = ["h1::text"]',
        "title = [\"xpath://h1[re:test(concat(@class, ','), '(\\\\w+\\\\s?)+$')]/text()\"]",
        "exponential",
    ),
    ('title = ["h1::text"]', "title = [\"xpath://h1[re:match(., '[')]\"]", "invalid regular"),
]


@pytest.mark.parametrize(("old", "new", "words"), REFUSED)
def test_selectors_and_patterns_that_cannot_work_are_refused(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    path = write(tmp_path, "broken", VALID.replace(old, new))
    with pytest.raises(SiteDefinitionError) as err:
        load_site_file(path)
    assert str(path) in str(err.value) and words in str(err.value)


@pytest.mark.parametrize(
    "pattern",
    [
        "/new-(\\d+-)?\\d+\\.html$",  # an optional group is not a repetition
        "(?:/\\d+)+\\.html$",  # each round starts with '/', which \d cannot match
        "/t\\d{8}_\\d+(?:_\\d+)?\\.s?html?$",
    ],
)
def test_linear_patterns_and_safe_selectors_load(tmp_path: Path, pattern: str) -> None:
    text = VALID.replace("[list]", f"[list]\narticle_url_pattern = '{pattern}'").replace(
        'title = ["h1::text"]',
        'title = ["xpath://h1[re:test(@class, \'a:b\')]/text()", "xpath://p[@xml:lang]"]',
    )
    site = load_site_file(write(tmp_path, "fine", text))
    assert site.list.article_url_pattern is not None
