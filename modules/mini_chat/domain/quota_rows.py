"""The values of ``quota_usage`` rows that the pure quota functions read (CI-2 ``quota_usage``)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from .credits import Bucket, PeriodType

RowKey = tuple[Bucket, PeriodType]


class QuotaRowValues(msgspec.Struct, frozen=True, kw_only=True):
    """One bucket × period row as locked (preflight) or read (status). A missing row reads as all zeros."""

    spent_credits_micro: int = 0
    reserved_credits_micro: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    file_search_calls: int = 0
    web_search_calls: int = 0
    code_interpreter_calls: int = 0
    image_inputs: int = 0

    @property
    def used_credits_micro(self) -> int:
        return self.spent_credits_micro + self.reserved_credits_micro


EMPTY_ROW = QuotaRowValues()


def row_of(rows: Mapping[RowKey, QuotaRowValues], bucket: Bucket, period: PeriodType) -> QuotaRowValues:
    return rows.get((bucket, period), EMPTY_ROW)
