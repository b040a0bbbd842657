"""Signals of the crawl's own components, for the pipelines to connect to."""

from __future__ import annotations

# Sent by the Redis frontier for a request it gives up (its workers kept dying) with
# keyword arguments url (canonical), reason and retries; the storage pipeline records it
# as a failure of the run.
request_given_up = object()
