"""A crawl frontier in Redis shared by many workers: the scheduler, its queue and
duplicate filter, leases, one-time seeding and the idle exit.

Same semantics as scrapy-redis (a Scrapy scheduler whose queue and request-fingerprint
duplicate filter live in Redis), built on redis-py because scrapy-redis 0.9.1 has no
`async def start()`, no leases and throttles per process. Keys live under
`wenhua:crawl:<site>:…` (WENHUA_REDIS_PREFIX replaces `wenhua`), so workers started with
the same command agree on them:

- `queue`   sorted set of fingerprints, scored by priority then arrival (FIFO per priority);
- `requests` hash fingerprint -> pickled `request_to_dict`, kept until the request is done;
- `seen`    set of fingerprints ever enqueued (the duplicate filter);
- `leases`  sorted set fingerprint -> deadline (ms, Redis clock) of requests being worked on;
- `seeded`  `seeding` while the seeding worker enqueues the start pages, then `done`.

A popped request is leased, not removed: it is acknowledged (`ack`) when its item has been
through the pipelines (item signals), when a list page's child requests are enqueued (the
spider calls `ack`), or when its callback fails. A live worker renews its leases (a
heartbeat every third of WENHUA_FRONTIER_LEASE); a lease past its deadline — its worker was
killed — is put back on the queue by whichever worker polls next, at most MAX_REQUEUES times.
Leases are keyed by fingerprint, so a retry (same fingerprint, `dont_filter`) replaces its
lease, and a redirect (new fingerprint) acknowledges the lease of the request it replaces.

The frontier is empty when nothing is queued, nothing is leased and no worker is seeding:
then no worker can add work, so the crawl is over. A worker that saw it empty for
WENHUA_IDLE_EXIT seconds closes and clears the shared state (atomically, only if still
over), so the same command run later seeds a fresh incremental crawl. A worker arriving
while others leave either finds the state cleared (it seeds a new crawl) or finds a finished
crawl (`done`, nothing queued or leased) and also seeds anew; one arriving during a live
crawl joins it.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, Self, cast

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.request import request_from_dict
from twisted.internet.task import LoopingCall, deferLater

from crawler.signals import request_given_up

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

logger = logging.getLogger(__name__)

LEASE_META = "wenhua_lease"  # the fingerprint a request is leased under
MAX_REQUEUES = 3  # a request whose worker died this often is given up (it kills workers)
MAX_HOLD_LEASES = 10  # a worker renews a lease for at most this many lease periods
POLL_SECONDS = 0.5  # how often an idle worker looks for work others enqueued
DEFAULT_LEASE = 120.0
DEFAULT_IDLE_EXIT = 30.0

# Score: priority first (higher first), then arrival order. Lua numbers are doubles, exact
# to 2**53: priorities within ±4000 and 10**12 arrivals fit.
_ENQUEUE = """
local fp, blob, prio, dont_filter, prev = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local function ack(key)
  redis.call('ZREM', KEYS[4], key)
  if not redis.call('ZSCORE', KEYS[2], key) then redis.call('HDEL', KEYS[3], key) end
end
local added = redis.call('SADD', KEYS[1], fp)
if added == 0 and dont_filter ~= '1' then
  if prev ~= '' and prev ~= fp then ack(prev) end
  return 0
end
local seq = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[3], fp, blob)
redis.call('ZREM', KEYS[4], fp)
redis.call('ZADD', KEYS[2], -prio * 1e12 + seq, fp)
if prev ~= '' and prev ~= fp then ack(prev) end
return 1
"""

_POP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
while true do
  local head = redis.call('ZPOPMIN', KEYS[1])
  if #head == 0 then return false end
  local blob = redis.call('HGET', KEYS[2], head[1])
  if blob then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), head[1])
    redis.call('HSET', KEYS[4], head[1], head[2])
    return blob
  end
end
"""

_ACK = """
redis.call('ZREM', KEYS[2], ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
end
return 1
"""

# Expired leases back on the queue (with their score); returns {requeued, [given-up requests]}.
_RECLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local requeued, given_up = 0, {}
for _, fp in ipairs(expired) do
  redis.call('ZREM', KEYS[2], fp)
  local n = redis.call('HINCRBY', KEYS[5], fp, 1)
  local score = redis.call('HGET', KEYS[4], fp)
  if n > tonumber(ARGV[1]) or not score or not redis.call('HEXISTS', KEYS[3], fp) then
    local blob = redis.call('HGET', KEYS[3], fp)
    if blob then table.insert(given_up, blob) end
    redis.call('HDEL', KEYS[3], fp)
  else
    redis.call('ZADD', KEYS[1], score, fp)
    requeued = requeued + 1
  end
end
return {requeued, given_up}
"""

# Heartbeat: push the deadline of leases still held (XX: never re-create an acked one).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i]) end
return #ARGV - 1
"""

# Seeding right: nobody seeded yet, or the last crawl is over (seeded, nothing left).
_CLAIM = """
local state = redis.call('GET', KEYS[1])
local over = state == 'done' and redis.call('ZCARD', KEYS[2]) == 0
  and redis.call('ZCARD', KEYS[3]) == 0
if state and not over then return 0 end
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('SET', KEYS[1], 'seeding', 'PX', ARGV[1])
return 1
"""

_CLEAR_IF_OVER = """
local state = redis.call('GET', KEYS[1])
if state == 'seeding' or redis.call('ZCARD', KEYS[2]) > 0
  or redis.call('ZCARD', KEYS[3]) > 0 then return 0 end
for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
"""


class FrontierError(Exception):
    """The frontier URL is wrong or its Redis cannot be reached (one line for the user)."""


def connect(url: str) -> redis.Redis:
    """A client for `redis://HOST:PORT/DB`, checked with a PING."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise FrontierError(f"--frontier {url!r} is not a Redis URL (redis://HOST:PORT/DB)")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise FrontierError(
            f"cannot reach Redis at {url} ({reason}); start Redis or fix --frontier"
        ) from exc
    return client


def namespace(site: str, prefix: str = "wenhua") -> str:
    return f"{prefix}:crawl:{site}"


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class RedisFrontier:
    """The Scrapy scheduler (BaseScheduler interface) over the shared Redis frontier."""

    def __init__(
        self,
        crawler: Crawler,
        client: redis.Redis,
        lease: float,
        idle_exit: float,
        prefix: str = "wenhua",
    ) -> None:
        self.crawler = crawler
        self.client = client
        self.prefix = prefix
        self.lease_ms = max(1, int(lease * 1000))
        self.idle_exit = idle_exit
        self.worker = worker_id()
        self.spider: Spider | None = None
        self.keys: dict[str, str] = {}
        # Fingerprints this worker holds a lease on, with when it took them (monotonic).
        self.mine: dict[str, float] = {}
        self._heartbeat: Any = None
        self.empty_since: float | None = None
        self._reclaimed_at = 0.0
        self._enqueue = client.register_script(_ENQUEUE)
        self._pop = client.register_script(_POP)
        self._ack = client.register_script(_ACK)
        self._reclaim = client.register_script(_RECLAIM)
        self._claim = client.register_script(_CLAIM)
        self._clear = client.register_script(_CLEAR_IF_OVER)
        self._renew = client.register_script(_RENEW)
        for handler, signal in (
            (self.item_done, signals.item_scraped),
            (self.item_done, signals.item_dropped),
            (self.item_done, signals.item_error),
            (self.callback_failed, signals.spider_error),
            (self.spider_idle, signals.spider_idle),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("WENHUA_FRONTIER_URL")
        if not url:
            raise FrontierError("WENHUA_FRONTIER_URL is not set (wenhua crawl --frontier URL)")
        return cls(
            crawler,
            connect(url),
            settings.getfloat("WENHUA_FRONTIER_LEASE", DEFAULT_LEASE),
            settings.getfloat("WENHUA_IDLE_EXIT", DEFAULT_IDLE_EXIT),
            settings.get("WENHUA_REDIS_PREFIX") or "wenhua",
        )

    # -- keys ----------------------------------------------------------------------------

    def _keyset(self, site: str) -> dict[str, str]:
        ns = namespace(site, self.prefix)
        names = ("queue", "requests", "seen", "leases", "scores", "requeues", "seq", "seeded")
        return {name: f"{ns}:{name}" for name in names}

    def bind(self, site: str) -> None:
        """Use the keys of this site's crawl."""
        self.keys = self._keyset(site)

    def _state_keys(self) -> list[str]:
        k = self.keys
        names = ("seeded", "queue", "leases", "requests", "seen", "scores", "requeues", "seq")
        return [k[name] for name in names]

    # -- BaseScheduler ---------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        site_def = getattr(spider, "site_def", None)
        self.bind(site_def.name if site_def is not None else spider.name)
        # The spider seeds through us and acknowledges its list pages (PortalSpider).
        spider.frontier = self  # type: ignore[attr-defined]
        logger.info("Redis frontier %s (worker %s)", namespace_of(self.keys), self.worker)
        self._heartbeat = LoopingCall(self.renew)
        self._heartbeat.start(self.lease_ms / 3000, now=False)

    def close(self, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        # A worker stopped early (Ctrl-C, error) hands its leases back now rather than after
        # the lease timeout.
        if self.mine:
            k = self.keys
            with self.client.pipeline() as pipe:
                held = sorted(self.mine)
                for fp in held:
                    pipe.zrem(k["leases"], fp)
                    pipe.hget(k["scores"], fp)
                results = pipe.execute()
            # Only leases still ours (not expired and taken over by another worker).
            back = {
                fp: float(score)
                for fp, removed, score in zip(held, results[0::2], results[1::2], strict=True)
                if removed and score is not None
            }
            if back:
                self.client.zadd(k["queue"], back)
                logger.info("handed %d unfinished requests back to the frontier", len(back))
        self.client.close()

    def has_pending_requests(self) -> bool:
        self._maybe_reclaim()
        return bool(self.client.zcard(self.keys["queue"]))

    def __len__(self) -> int:
        return int(self.client.zcard(self.keys["queue"]))

    def enqueue_request(self, request: Request) -> bool:
        fp = self.fingerprint(request)
        previous = str(request.meta.get(LEASE_META) or "")
        request.meta[LEASE_META] = fp
        blob = pickle.dumps(request.to_dict(spider=self.spider), protocol=5)
        k = self.keys
        added = self._enqueue(
            keys=[k["seen"], k["queue"], k["requests"], k["leases"], k["seq"]],
            args=[fp, blob, request.priority, "1" if request.dont_filter else "0", previous],
        )
        if previous and previous != fp:
            self.mine.pop(previous, None)
        self.mine.pop(fp, None)  # a retry: its lease is now a queue entry again
        stats = self.crawler.stats
        if not added:
            if stats is not None:
                stats.inc_value("dupefilter/filtered")
            return False
        if stats is not None:
            stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        self._maybe_reclaim()
        k = self.keys
        blob = self._pop(
            keys=[k["queue"], k["requests"], k["leases"], k["scores"]], args=[self.lease_ms]
        )
        if blob is None:
            return None
        request = request_from_dict(pickle.loads(cast(bytes, blob)), spider=self.spider)
        self.mine[str(request.meta[LEASE_META])] = time.monotonic()
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- leases --------------------------------------------------------------------------

    def fingerprint(self, request: Request) -> str:
        assert self.crawler.request_fingerprinter is not None
        return self.crawler.request_fingerprinter.fingerprint(request).hex()

    def ack(self, request: Request | None) -> None:
        """The request's work is finished: drop its lease (and its stored copy)."""
        fp = request.meta.get(LEASE_META) if request is not None else None
        if not fp:
            return
        k = self.keys
        self._ack(
            keys=[k["queue"], k["leases"], k["requests"], k["scores"], k["requeues"]], args=[fp]
        )
        self.mine.pop(str(fp), None)

    def renew(self) -> None:
        """Heartbeat: extend this worker's leases, so only a dead (or stuck) worker's lapse.

        A request waiting for a politeness slot, or an article whose images are queued
        behind other workers' downloads, can take longer than one lease. A lease held for
        MAX_HOLD_LEASES leases is no longer renewed: a request that never finishes goes back
        to the queue and is given up after MAX_REQUEUES."""
        limit = time.monotonic() - MAX_HOLD_LEASES * self.lease_ms / 1000
        alive = [fp for fp, taken in self.mine.items() if taken >= limit]
        if alive:
            self._renew(keys=[self.keys["leases"]], args=[self.lease_ms, *alive])

    def item_done(self, item: Any, response: Any, spider: Spider, **kwargs: Any) -> None:
        # Errback output comes with the Failure (which carries the request) as `response`.
        request = response.request if isinstance(response, Response) else None
        if request is None:
            request = getattr(response, "request", None)
        self.ack(request)

    def callback_failed(self, failure: Any, response: Any, spider: Spider) -> None:
        # A callback that raised would raise again on another worker: not worth a lease.
        if isinstance(response, Response):
            self.ack(response.request)

    def _maybe_reclaim(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._reclaimed_at < 1.0:
            return
        self._reclaimed_at = now
        k = self.keys
        requeued, given_up = self._reclaim(
            keys=[k["queue"], k["leases"], k["requests"], k["scores"], k["requeues"]],
            args=[MAX_REQUEUES],
        )
        dropped = len(given_up)
        stats = self.crawler.stats
        if requeued:
            logger.info("re-queued %d requests whose lease expired", requeued)
            if stats is not None:
                stats.inc_value("wenhua/frontier_requeued", int(requeued))
        if dropped:
            logger.error("gave up %d requests leased %d times", dropped, MAX_REQUEUES + 1)
            if stats is not None:
                stats.inc_value("wenhua/frontier_given_up", int(dropped))
            self._record_given_up(given_up)

    def _record_given_up(self, blobs: list[bytes]) -> None:
        """A request whose workers kept dying is a permanent failure of this run: announced
        (crawler.signals.request_given_up) for the storage pipeline to record with its URL
        and the reason, like any other (`wenhua failures`)."""
        canonical = getattr(self.spider, "canonical", None)
        reason = (
            f"given up: the workers holding it stopped {MAX_REQUEUES + 1} times "
            "(lease expired each time)"
        )
        for blob in blobs:
            url = str(pickle.loads(blob)["url"])
            self.crawler.signals.send_catch_log(
                signal=request_given_up,
                url=str(canonical(url)) if callable(canonical) else url,
                reason=reason,
                retries=MAX_REQUEUES,
            )

    # -- seeding -------------------------------------------------------------------------

    def claim_seed(self) -> bool:
        """True for the one worker that seeds this crawl (see the module docstring)."""
        won = bool(self._claim(keys=self._state_keys(), args=[self.lease_ms]))
        if won and self.crawler.stats is not None:
            self.crawler.stats.set_value("wenhua/frontier_seeded", 1)
        return won

    def seed(self, requests: list[Request]) -> int:
        """Enqueue the start requests at once (not paced by the engine), then mark seeding
        done; returns how many were new."""
        added = sum(1 for request in requests if self.enqueue_request(request))
        self.client.set(self.keys["seeded"], "done")
        logger.info("seeded the frontier with %d requests", added)
        return added

    # -- idle exit -----------------------------------------------------------------------

    def frontier_empty(self) -> bool:
        k = self.keys
        with self.client.pipeline() as pipe:
            pipe.get(k["seeded"])
            pipe.zcard(k["queue"])
            pipe.zcard(k["leases"])
            state, queued, leased = pipe.execute()
        return state != b"seeding" and not queued and not leased

    def spider_idle(self, spider: Spider) -> None:
        self._maybe_reclaim(force=True)
        now = time.monotonic()
        if not self.frontier_empty():
            self.empty_since = None
        elif self.empty_since is None:
            self.empty_since = now
        if self.empty_since is not None and now - self.empty_since >= self.idle_exit:
            if self._clear(keys=self._state_keys()):
                logger.info("crawl over: cleared the shared frontier state")
            return  # let the spider close
        self._poll_soon()
        raise DontCloseSpider

    def _poll_soon(self) -> None:
        # The engine's own heartbeat looks at the scheduler every 5 s; work enqueued by other
        # workers should start sooner than that. Imported here: importing the reactor at
        # module level would install the default one before Scrapy installs asyncio's.
        from twisted.internet import reactor

        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            deferLater(reactor, POLL_SECONDS, nextcall.schedule)


def namespace_of(keys: dict[str, str]) -> str:
    return keys["queue"].rsplit(":", 1)[0]


def frontier_settings(settings: Any, url: str, idle_exit: float, polite: bool) -> dict[str, Any]:
    """Setting overrides for `wenhua crawl --frontier URL` (crawler.runner.crawl_settings).

    The per-domain limits become global (crawler.frontier.politeness): the local delay and
    AutoThrottle, which only see one process, are turned off in their favour.
    WENHUA_DOMAIN_CONCURRENCY / WENHUA_DOMAIN_DELAY in the environment override the
    global limits.
    """
    concurrency = int(
        os.environ.get("WENHUA_DOMAIN_CONCURRENCY")
        or settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    )
    delay = float(os.environ.get("WENHUA_DOMAIN_DELAY") or settings.getfloat("DOWNLOAD_DELAY"))
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["crawler.frontier.politeness.GlobalPolitenessMiddleware"] = 950
    overrides: dict[str, Any] = {
        "SCHEDULER": "crawler.frontier.scheduler.RedisFrontier",
        "WENHUA_FRONTIER_URL": url,
        "WENHUA_IDLE_EXIT": idle_exit,
        "WENHUA_GLOBAL_POLITENESS": polite,
        "WENHUA_GLOBAL_CONCURRENCY": concurrency,
        "WENHUA_GLOBAL_DELAY": delay,
        "DOWNLOADER_MIDDLEWARES": middlewares,
    }
    if polite:
        overrides.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False)
    return overrides
