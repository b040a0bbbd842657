"""Deterministic pictures for the demo portal, drawn with Pillow from an image spec.

Each picture is a two-colour gradient with a few shapes and a layer of grain, all driven by a
``random.Random`` seeded with the spec's key: the same spec gives the same bytes on every run
(Pillow's own ``effect_noise`` is not seeded, so it is not used). The grain is there so JPEGs
land at a realistic 10-30 KB instead of a few KB.
"""

from __future__ import annotations

import functools
import io
import random

from PIL import Image, ImageChops, ImageDraw

from crawler.demo_portal.corpus import ImageSpec

_JPEG_QUALITY = 50
_GRAIN = 28  # peak grain amplitude, in 8-bit levels


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


@functools.cache
def image_bytes(spec: ImageSpec) -> bytes:
    """Encode ``spec`` as JPEG or PNG (cached: a server start draws nothing up front)."""
    rng = random.Random(spec.key)
    size = (spec.width, spec.height)
    gradient = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize(size)
    picture = Image.composite(
        Image.new("RGB", size, _colour(rng)), Image.new("RGB", size, _colour(rng)), gradient
    )
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randint(8, 16)):
        x0, y0 = rng.randrange(spec.width), rng.randrange(spec.height)
        x1, y1 = x0 + rng.randint(20, 200), y0 + rng.randint(20, 160)
        shape = rng.randrange(3)
        if shape == 0:
            draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), fill=_colour(rng))
        else:
            apex = (x0 + rng.randint(-60, 60), y1)
            draw.polygon([(x0, y0), (x1, y0 + rng.randint(-50, 50)), apex], fill=_colour(rng))
    out = io.BytesIO()
    if spec.format == "PNG":
        # Flat colours compress well; a small palette keeps PNGs the size of a web graphic.
        picture.quantize(48).save(out, "PNG", optimize=True)
        return out.getvalue()
    grain = Image.frombytes("L", size, rng.randbytes(spec.width * spec.height))
    grain = grain.point(lambda v: v * _GRAIN // 255)
    picture = ImageChops.add(
        picture, Image.merge("RGB", (grain, grain, grain)), offset=-(_GRAIN // 2)
    )
    picture.save(out, "JPEG", quality=_JPEG_QUALITY)
    return out.getvalue()


def content_type(spec: ImageSpec) -> str:
    return "image/png" if spec.format == "PNG" else "image/jpeg"
