from __future__ import annotations

import hashlib
from io import BytesIO

import pytest
from PIL import Image
from scrapy.pipelines.media import FileException

from pipelines.images import inspect_image


def make(fmt: str, size: tuple[int, int]) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"), [("JPEG", "image/jpeg", ".jpg"), ("PNG", "image/png", ".png")]
)
def test_real_images_are_described(fmt: str, mime: str, ext: str) -> None:
    data = make(fmt, (64, 48))
    facts = inspect_image(data)
    sha = hashlib.sha256(data).hexdigest()
    assert facts == {
        "sha256": sha,
        "mime": mime,
        "width": 64,
        "height": 48,
        "size": len(data),
        "path": f"images/{sha[:2]}/{sha[2:4]}/{sha}{ext}",
    }


@pytest.mark.parametrize("data", [b"<html>404 Not Found</html>", b"", make("JPEG", (8, 8))[:40]])
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises(FileException, match="not a readable image"):
        inspect_image(data)
