"""Small helpers shared by the paging tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from fabrikit.kernel.odata import Page


def ids(items: Sequence[Mapping[str, Any]]) -> list[UUID]:
    """Row ids as UUIDs (SQLite raw tables return them as text)."""
    return [UUID(str(item["id"])) for item in items]


def cursors(page: Page[Any]) -> tuple[bool, bool]:
    return page.page_info.next_cursor is not None, page.page_info.prev_cursor is not None
