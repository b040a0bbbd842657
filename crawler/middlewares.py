"""Retries with exponential backoff.

Scrapy's RetryMiddleware re-schedules a failed request at once; a small server that answers
503 because it is overloaded needs a pause first. The pause is a reactor timer awaited by the
middleware, so the process keeps serving other sites meanwhile.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawler.dataloss import cut_short


class BackoffRetryMiddleware(RetryMiddleware):
    """RETRY_* settings as usual, plus WENHUA_RETRY_BACKOFF (seconds before the first retry,
    doubled for each further one) capped at WENHUA_RETRY_BACKOFF_MAX."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.backoff = crawler.settings.getfloat("WENHUA_RETRY_BACKOFF", 2.0)
        middleware.backoff_max = crawler.settings.getfloat("WENHUA_RETRY_BACKOFF_MAX", 60.0)
        return middleware

    backoff: float = 2.0
    backoff_max: float = 60.0

    def delay(self, retry: Request) -> float:
        attempt = int(retry.meta.get("retry_times", 1))
        return float(min(self.backoff * 2 ** (attempt - 1), self.backoff_max))

    async def _pause(self, retry: Request) -> Request:
        seconds = self.delay(retry)
        if seconds > 0:
            # Imported here: importing twisted.internet.reactor at module level would install
            # the default reactor before Scrapy installs the asyncio one.
            from twisted.internet import reactor

            self.crawler.stats.inc_value("wenhua/retry_backoffs")
            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
        return retry

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if cut_short(response):
            # What DOWNLOAD_FAIL_ON_DATALOSS would have raised (crawler.dataloss): retried,
            # then the request's errback gets the exception.
            lost = ResponseDataLossError(
                f"{response.url}: body cut short (the connection closed before its end)"
            )
            retried = await self.process_exception(request, lost)
            if isinstance(retried, Request):
                return retried
            raise lost
        result = super().process_response(request, response)
        if isinstance(result, Request):
            return await self._pause(result)
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            return await self._pause(result)
        return result
