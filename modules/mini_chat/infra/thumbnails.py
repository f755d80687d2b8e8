"""Image thumbnails (C-13.9): WebP within the configured box and byte size, with Pillow when it is installed
(the ``images`` extra). Without Pillow, or for an image too large to decode safely, there is no thumbnail."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable

from ..config import ThumbnailConfig

_log = logging.getLogger("fabrikit.mini_chat.attachments")
_QUALITIES = (80, 60, 40, 20)
# Pillow's decoded size of one pixel in RGBA: the budget check happens before decoding.
_BYTES_PER_PIXEL = 4


def thumbnail_of(data: bytes, cfg: ThumbnailConfig) -> tuple[bytes, int, int] | None:
    """(WebP bytes, width, height), or None when it cannot or should not be made."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > cfg.max_pixels or width * height * _BYTES_PER_PIXEL > cfg.max_decode_bytes:
                return None
            image.thumbnail((cfg.width, cfg.height))
            small = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            for quality in _QUALITIES:
                out = io.BytesIO()
                small.save(out, "WEBP", quality=quality)
                if out.tell() <= cfg.max_bytes:
                    return out.getvalue(), small.width, small.height
    except Exception as exc:  # a file that is not the image it claims to be: no thumbnail, the upload stands
        _log.info("no thumbnail: %s", type(exc).__name__)
    return None


def thumbnailer(cfg: ThumbnailConfig) -> Callable[[bytes], Awaitable[tuple[bytes, int, int] | None]]:
    """The ``Attachments`` thumbnail hook: decoding runs in a worker thread, off the event loop."""

    async def make(data: bytes) -> tuple[bytes, int, int] | None:
        return await asyncio.to_thread(thumbnail_of, data, cfg)

    return make


__all__ = ["thumbnail_of", "thumbnailer"]
