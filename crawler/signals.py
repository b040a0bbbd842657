"""Signals of the crawl's own components, for the pipelines to connect to, and how one
component finds another on the running crawler."""

from __future__ import annotations

from typing import Any, TypeVar

Component = TypeVar("Component")


def component_of(manager: Any, kind: type[Component]) -> Component | None:
    """The `kind` instance among a Scrapy middleware manager's components (the crawler's
    extensions, its item pipelines), or None when it is not enabled."""
    for component in getattr(manager, "middlewares", ()):
        if isinstance(component, kind):
            return component
    return None


# Sent by the Redis frontier for a request it gives up (its workers kept dying) with
# keyword arguments url (canonical), reason and retries; the storage pipeline records it
# as a failure of the run.
request_given_up = object()

# Sent by crawler.accounting with keyword argument item (a FailureItem or SkippedItem) for a
# scheduled request that no callback or errback settles: dropped by Scrapy's duplicate
# filter or offsite check, or its callback or a pipeline raised. The storage pipeline
# stores it.
store_outcome = object()

# Sent with keyword argument item (a crawler.items.PageProblems) for addresses on a page
# that could not be followed; the storage pipeline records them as problems.
page_problems = object()
