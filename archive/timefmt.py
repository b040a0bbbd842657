"""Times as people here read them, and as machines exchange them.

Human-facing output (the web UI, text tables, crawl summaries) shows China time
(Asia/Shanghai, 北京时间) in a Chinese format: ``2020年11月2日 11:20``. Machine output (JSON,
CSV, the API) keeps ISO 8601 with the offset, also at +08:00, so the instant is the same
and the reader of the file sees the time the portal meant.

A publish time keeps the precision the page stated: a day-precision date shows no 00:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# China has kept one offset all year since 1991; a fixed zone needs no tz database.
CHINA = timezone(timedelta(hours=8), "CST")


def to_china(value: datetime) -> datetime:
    """The same instant at +08:00 (a naive value is taken as UTC, as the database stores it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 at +08:00, to the second: ``2026-12-02T12:28:04+08:00``."""
    if value is None:
        return None
    return to_china(value).isoformat(timespec="seconds")


def _chinese(value: datetime, precision: str) -> str:
    day = f"{value.year}年{value.month}月{value.day}日"
    if precision == "day":
        return day
    if precision == "hour":
        return f"{day} {value.hour}时"
    if precision == "second":
        return f"{day} {value:%H:%M:%S}"
    return f"{day} {value:%H:%M}"


def human(value: datetime | None, precision: str = "minute") -> str:
    """China time in a Chinese format, to ``precision`` (second, minute, hour or day)."""
    if value is None:
        return ""
    return _chinese(to_china(value), precision)


def human_iso(value: str | None, precision: str = "minute") -> str:
    """An ISO 8601 time, as machine output carries it, for people (see `human`)."""
    if not value:
        return ""
    return human(datetime.fromisoformat(value), precision)


def human_published(published_at: str | None, precision: str | None) -> str:
    """A stored publish time (ISO at +08:00) at the precision the page stated."""
    return human_iso(published_at, precision or "minute")
