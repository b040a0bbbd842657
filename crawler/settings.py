"""Scrapy settings for wenhua. Only the defaults live here; `crawler.runner` layers the
command line's choices (data dir, database, politeness) on top."""

from __future__ import annotations

import os

from archive.config import resolve

BOT_NAME = "wenhua"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Polite by default: these are small government servers.
ROBOTSTXT_OBEY = True
USER_AGENT = (
    "wenhua-archiver/0.1 (+https://github.com/wenhua-archive/wenhua; cultural-news archive)"
)
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy (2.13+, asyncio) starts this many worker tasks for every response's callback
# output, however few items it yields: at its default of 100 that was 9% of the crawl
# process's interpreter time (py-spy --gil, bench portal). A callback here yields one
# article, or a list page's frontier item and its links (tens, more with discovery).
CONCURRENT_ITEMS = 16
# How many bytes of responses may be in the scraper at once (Scrapy's default 5 MB) before
# the engine stops starting downloads. An article in flight holds far more than its body (its
# parsed tree, its record, its job to the archive writer), and when the writer is the slower
# process the slot stays full: at 5 MB the crawl process peaked 60 MB higher (236 MB against
# 176 at 2,000 articles, bench memory under load) for no more pages per second.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 500_000
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
# Retries wait 2 s, 4 s, 8 s … (at most 60 s) before going again.
WENHUA_RETRY_BACKOFF = 2.0
WENHUA_RETRY_BACKOFF_MAX = 60.0
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # Accounting (crawler.accounting): what Scrapy would drop without a trace is recorded.
    "crawler.accounting.RequestLedgerMiddleware": 10,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.accounting.AccountedOffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.accounting.CheckedMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.accounting.CheckedRedirectMiddleware": 600,
    # Before HttpCompressionMiddleware (590) decodes: a body cut short is kept only when
    # its gzip stream is whole (crawler.dataloss); everything else still fails as data loss.
    "crawler.dataloss.WholeStreamMiddleware": 595,
}
DOWNLOAD_FAIL_ON_DATALOSS = False
REDIRECT_MAX_TIMES = 10
# Scrapy applies both to the decoded body too: a gzip bomb stops at 32 MiB decompressed.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# An image with more pixels is refused (a failure with the reason), never decoded: a small
# PNG can decode to gigabytes. Pillow's own limit (MAX_IMAGE_PIXELS) is about 89 Mpx.
WENHUA_IMAGE_MAX_PIXELS = 40_000_000
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Large-frontier crawls keep memory flat by finishing articles before new list pages.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
# Seen fingerprints on disk, not in a set: memory stays flat in the size of the crawl.
DUPEFILTER_CLASS = "crawler.frontier.seen.DiskDupeFilter"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.images.ArchiveImagesPipeline": 200,
    "pipelines.storage.ArchiveStoragePipeline": 900,
}
EXTENSIONS = {
    "crawler.accounting.Accounting": 100,
    "crawler.progress.Progress": 500,
    "pipelines.warc.WarcExtension": 600,
    "crawler.memory.MemoryTrim": 700,
}
# Seconds between the crawl's full collections and malloc trims (crawler/memory.py).
WENHUA_COLLECT_INTERVAL = float(os.environ.get("WENHUA_COLLECT_INTERVAL", 2.0))
# WARC capture: files under DATA/warc/, rolled over at this size.
WENHUA_WARC_ENABLED = True
WENHUA_WARC_MAX_BYTES = int(os.environ.get("WENHUA_WARC_MAX_BYTES", 1024**3))
# Redis frontier (`wenhua crawl --frontier URL`): seconds a worker may hold a request
# before another worker takes it back (setting or environment variable).
WENHUA_FRONTIER_LEASE = float(os.environ.get("WENHUA_FRONTIER_LEASE", 120))
# First part of every Redis key (`<prefix>:crawl:<site>:…`, `<prefix>:polite:<host>:…`).
WENHUA_REDIS_PREFIX = os.environ.get("WENHUA_REDIS_PREFIX", "wenhua")
# Images live in the data directory (WENHUA_DATA or ./wenhua-data); `wenhua` overrides it
# from --data-dir.
FILES_STORE = str(resolve().data_dir)
WENHUA_PROGRESS = False
MEDIA_ALLOW_REDIRECTS = True
LOG_LEVEL = "INFO"
