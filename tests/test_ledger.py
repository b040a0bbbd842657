"""The run's balance: every scheduled URL settled exactly once, or the run cannot finish."""

from __future__ import annotations

from crawler.accounting import Ledger
from pipelines.storage import run_status


def test_a_balanced_ledger_counts_each_outcome() -> None:
    ledger = Ledger()
    for url in ("http://a/list", "http://a/1", "http://a/2", "http://a/3", "http://a/4"):
        ledger.schedule(url)
    ledger.settle("http://a/list", "list")
    ledger.settle("http://a/1", "archived:new")
    ledger.settle("http://a/2", "archived:not modified")
    ledger.settle("http://a/3", "failed:fetch")
    ledger.settle("http://a/4", "skipped:robots.txt")
    balance = ledger.balance()
    assert balance["balanced"] and balance["problems"] == []
    assert (balance["scheduled"], balance["settled"], balance["lists"]) == (5, 5, 1)
    assert balance["archived"] == {"new": 1, "not modified": 1}
    assert balance["failed"] == {"fetch": 1}
    assert balance["skipped"] == {"robots.txt": 1}
    assert run_status("finished", balance) == "finished"
    assert run_status("shutdown", balance) == "interrupted"


def test_unsettled_twice_settled_and_unstored_outcomes_fail_the_run() -> None:
    ledger = Ledger()
    ledger.schedule("http://a/1")
    ledger.schedule("http://a/2")
    ledger.settle("http://a/1", "archived:new")
    ledger.settle("http://a/1", "failed:processing")
    ledger.not_stored_error("http://a/3", "Traceback …\nOSError: [Errno 30] Read-only file system")
    balance = ledger.balance()
    assert not balance["balanced"]
    assert balance["unsettled_urls"] == ["http://a/2"]
    assert balance["settled_twice"] == ["http://a/1"]
    assert balance["not_stored"] == [
        {"url": "http://a/3", "error": "OSError: [Errno 30] Read-only file system"}
    ]
    assert len(balance["problems"]) == 3
    assert run_status("finished", balance) == "failed"
    assert run_status("shutdown", balance) == "interrupted"
