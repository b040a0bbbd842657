"""The benchmark portal: its list pages stay the same size however large the portal, so the
memory benchmark measures growth with the crawl, not with the pages."""

from __future__ import annotations

import re

from bench.portal import PAGER_WINDOW, build
from crawler.demo_portal.family_culture_cloud import render_list


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="(?:num|current)"[^>]*>(\d+)<', html)]


def test_list_pages_do_not_grow_with_the_portal() -> None:
    small, large = build(3_000), build(60_000)
    small_list, _ = next(iter(small.lists.values()))
    large_list, _ = next(iter(large.lists.values()))
    assert large_list.page_count > 10 * small_list.page_count
    small_size = len(render_list(small_list, 2).encode())
    large_size = len(render_list(large_list, 2).encode())
    assert abs(large_size - small_size) < 200, (small_size, large_size)


def test_the_pager_window_keeps_every_page_reachable() -> None:
    portal = build(30_000)
    lst, _ = next(iter(portal.lists.values()))
    last = lst.page_count
    for page in (1, 2, last // 2, last - 1, last):
        html = render_list(lst, page)
        numbers = _numbers(html)
        assert page in numbers and len(numbers) == PAGER_WINDOW, (page, numbers)
        assert numbers == list(range(numbers[0], numbers[0] + PAGER_WINDOW))
        if page < last:
            assert f'class="next" href="{lst.page_path(page + 1)}"' in html
        assert f'class="last" href="{lst.page_path(last)}"' in html
