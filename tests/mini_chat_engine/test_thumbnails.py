"""C-13.9 thumbnails: WebP inside 128×128 and 128 KiB; none for a non-image, an image over the decode budget,
or without Pillow."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from fabrikit.modules.mini_chat.config import ThumbnailConfig
from fabrikit.modules.mini_chat.infra.thumbnails import thumbnail_of


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("size", "expected"), [((1000, 500), (128, 64)), ((40, 90), (40, 90)), ((300, 300), (128, 128))]
)
def test_a_thumbnail_fits_the_box_keeping_the_aspect(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    made = thumbnail_of(_png(*size), ThumbnailConfig())
    assert made is not None
    data, width, height = made
    assert (width, height) == expected
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    assert len(data) <= ThumbnailConfig().max_bytes
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.size == expected


def test_transparency_survives() -> None:
    made = thumbnail_of(_png(200, 200, "RGBA"), ThumbnailConfig())
    assert made is not None
    with Image.open(io.BytesIO(made[0])) as decoded:
        assert "A" in decoded.getbands()


def test_no_thumbnail_when_it_cannot_or_should_not_be_made(monkeypatch: pytest.MonkeyPatch) -> None:
    assert thumbnail_of(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, ThumbnailConfig()) is None  # not really an image
    assert thumbnail_of(_png(400, 400), ThumbnailConfig(max_pixels=100_000)) is None  # 160 000 pixels
    assert thumbnail_of(_png(400, 400), ThumbnailConfig(max_decode_bytes=400 * 400 * 4 - 1)) is None
    small = _png(10, 10)
    monkeypatch.setitem(sys.modules, "PIL", None)  # Pillow not installed
    assert thumbnail_of(small, ThumbnailConfig()) is None
