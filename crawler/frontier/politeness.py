"""Politeness across workers: per-domain concurrency and delay coordinated in Redis.

Scrapy enforces CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY per process, so N workers
would put N times the load on a portal. This downloader middleware, last before the
download, takes a slot of the domain in Redis first:

- at most WENHUA_GLOBAL_CONCURRENCY requests of a domain in flight across all workers: a
  sorted set of holders scored by an expiry (DOWNLOAD_TIMEOUT plus a margin), so a killed
  worker's slots free themselves;
- at least WENHUA_GLOBAL_DELAY seconds between two request starts on a domain across all
  workers: a shared next-allowed time.

Times come from Redis's clock (`TIME` in the scripts), so workers on machines with skewed
clocks agree. The slot is released when the response or the exception comes back. Waiting is
a reactor timer, never a blocking sleep. `crawler.runner` installs it only with a Redis
frontier, sets the local DOWNLOAD_DELAY to 0 and AutoThrottle off (the global delay replaces
them) and turns it off under --no-politeness (WENHUA_GLOBAL_POLITENESS = False).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawler.frontier.scheduler import connect, worker_id

if TYPE_CHECKING:
    import redis
    from scrapy.crawler import Crawler

SLOT_META = "wenhua_domain_slot"
FULL_POLL_SECONDS = 0.05  # how often a request waiting for a free slot asks again

# Returns 0 when the slot is taken, else milliseconds to wait (-1: all slots busy).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, delay, hold = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then return -1 end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then return nxt - now end
if delay > 0 then redis.call('SET', KEYS[2], now + delay, 'PX', delay + 60000) end
redis.call('ZADD', KEYS[1], now + hold, ARGV[1])
redis.call('PEXPIRE', KEYS[1], hold + 60000)
return 0
"""


def domain_keys(domain: str, prefix: str = "wenhua") -> list[str]:
    return [f"{prefix}:polite:{domain}:slots", f"{prefix}:polite:{domain}:next"]


class GlobalPolitenessMiddleware:
    def __init__(
        self,
        client: redis.Redis,
        concurrency: int,
        delay: float,
        hold: float,
        prefix: str = "wenhua",
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.concurrency = max(1, concurrency)
        self.delay_ms = max(0, int(delay * 1000))
        self.hold_ms = max(1000, int(hold * 1000))
        self.worker = worker_id()
        self.tokens = itertools.count()
        self._acquire = client.register_script(_ACQUIRE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GlobalPolitenessMiddleware:
        settings = crawler.settings
        url = settings.get("WENHUA_FRONTIER_URL")
        if not url or not settings.getbool("WENHUA_GLOBAL_POLITENESS", True):
            raise NotConfigured("global politeness needs a Redis frontier and politeness on")
        concurrency = settings.getint(
            "WENHUA_GLOBAL_CONCURRENCY", settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        )
        delay = settings.getfloat("WENHUA_GLOBAL_DELAY", settings.getfloat("DOWNLOAD_DELAY"))
        # A holder that never releases (killed worker) frees its slot after the download
        # could at most have lasted.
        hold = settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 10
        prefix = settings.get("WENHUA_REDIS_PREFIX") or "wenhua"
        return cls(connect(url), concurrency, delay, hold, prefix)

    async def process_request(self, request: Request) -> None:
        domain = urlsplit(request.url).hostname or ""
        keys = domain_keys(domain, self.prefix)
        token = f"{self.worker}-{next(self.tokens)}"
        while True:
            wait_ms = int(
                self._acquire(
                    keys=keys, args=[token, self.concurrency, self.delay_ms, self.hold_ms]
                )
            )
            if wait_ms == 0:
                break
            await _sleep(FULL_POLL_SECONDS if wait_ms < 0 else wait_ms / 1000)
        # Meta travels to redirects and retries; each of those takes its own slot anew.
        request.meta[SLOT_META] = (domain, token)

    def release(self, request: Request) -> None:
        held = request.meta.pop(SLOT_META, None)
        if held:
            domain, token = held
            self.client.zrem(domain_keys(domain, self.prefix)[0], token)

    def process_response(self, request: Request, response: Response) -> Response:
        self.release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self.release(request)
        return None


async def _sleep(seconds: float) -> None:
    # Imported here: importing the reactor at module level would install the default one.
    from twisted.internet import reactor

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
