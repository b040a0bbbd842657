"""A deterministic offline copy of a city public-culture portal, served on loopback.

Three CMS families on one server: the Tangshan culture cloud at ``/`` (the seed's platform),
a TRS WCM district site in GBK at ``/lubei/`` and a Hanweb district site at ``/fengrun/``.
``build_corpus()`` is the ground truth for every page the server prints.
"""

from __future__ import annotations

from crawler.demo_portal.corpus import DemoArticle, DemoImage, DemoList, build_corpus
from crawler.demo_portal.server import DemoPortal

__all__ = ["DemoArticle", "DemoImage", "DemoList", "DemoPortal", "build_corpus"]
