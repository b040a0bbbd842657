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


def bilevel_png(size: tuple[int, int]) -> bytes:
    buffer = BytesIO()
    Image.new("1", size).save(buffer, "PNG")
    return buffer.getvalue()


def test_pixel_bombs_are_refused_before_decoding() -> None:
    data = bilevel_png((8000, 6000))  # 48 Mpx in a few KB
    assert len(data) < 100_000
    with pytest.raises(FileException, match="8000×6000 pixels, over the limit of 40000000"):
        inspect_image(data)
    assert inspect_image(make("PNG", (64, 48)), max_pixels=64 * 48)["width"] == 64


def test_pillows_own_bomb_limit_is_a_refusal_not_a_warning() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    side = int(limit**0.5) + 100  # past Pillow's limit, where it only warns
    with pytest.raises(FileException, match="DecompressionBombWarning"):
        inspect_image(bilevel_png((side, side)), max_pixels=10**12)
