"""``quota_usage``: ensure + lock in a fixed order, reserve, settle (CI-3 P8, CI-7.6); reads without locks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ..domain.ids import new_uuid7
from ..domain.quota_rows import QuotaRowValues, RowKey
from ..domain.settlement import RowSettlement
from .sql import Sql

_VALUES = (
    "bucket, period_type, spent_credits_micro, reserved_credits_micro, calls, input_tokens, output_tokens, "
    "file_search_calls, web_search_calls, code_interpreter_calls, image_inputs"
)


def _values(r: dict[str, Any]) -> QuotaRowValues:
    return QuotaRowValues(
        spent_credits_micro=int(r["spent_credits_micro"]),
        reserved_credits_micro=int(r["reserved_credits_micro"]),
        calls=int(r["calls"]),
        input_tokens=int(r["input_tokens"]),
        output_tokens=int(r["output_tokens"]),
        file_search_calls=int(r["file_search_calls"]),
        web_search_calls=int(r["web_search_calls"]),
        code_interpreter_calls=int(r["code_interpreter_calls"]),
        image_inputs=int(r["image_inputs"]),
    )


class QuotaRepository:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def _select(
        self, tenant_id: UUID, user_id: UUID, bucket: str, period: str, start: date, lock: bool
    ) -> QuotaRowValues | None:
        s = self._sql
        row = await s.fetch_one(
            f"SELECT {_VALUES} FROM quota_usage WHERE tenant_id = {{}} AND user_id = {{}} AND bucket = {{}} "
            "AND period_type = {} AND period_start = {}" + s.lock() * lock,
            tenant_id,
            user_id,
            bucket,
            period,
            s.day(start),
        )
        return _values(row) if row else None

    def _keys_where(self, keys: Sequence[RowKey], starts: dict[str, date]) -> tuple[str, list[Any]]:
        """``(bucket, period_type, period_start) IN (…)`` spelled as ORs: one statement for every row."""
        s = self._sql
        terms = " OR ".join(["(bucket = {} AND period_type = {} AND period_start = {})"] * len(keys))
        args: list[Any] = []
        for bucket, period in keys:
            args.extend((bucket, period, s.day(starts[period])))
        return f"({terms})", args

    async def ensure_and_lock(
        self, tenant_id: UUID, user_id: UUID, keys: Sequence[RowKey], starts: dict[str, date], now: datetime
    ) -> dict[RowKey, QuotaRowValues]:
        """One INSERT for the missing rows and one locking SELECT, both in (bucket, period_type) order: every
        writer takes the rows in that order (no PostgreSQL deadlock), in two statements instead of two per row
        (an SQLite write transaction is held across each statement's round trip)."""
        s = self._sql
        out: dict[RowKey, QuotaRowValues] = {}
        if not keys:
            return out
        ordered = sorted(set(keys))
        values: list[Any] = []
        for bucket, period in ordered:
            values.extend((new_uuid7(), tenant_id, user_id, period, s.day(starts[period]), bucket, s.ts(now)))
        await s.execute(
            "INSERT INTO quota_usage (id, tenant_id, user_id, period_type, period_start, bucket, updated_at) "
            "VALUES " + ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * len(ordered)) + " "
            "ON CONFLICT (tenant_id, user_id, period_type, period_start, bucket) DO NOTHING",
            *values,
        )
        where, args = self._keys_where(ordered, starts)
        rows = await s.fetch(
            f"SELECT {_VALUES} FROM quota_usage WHERE tenant_id = {{}} AND user_id = {{}} AND {where} "
            "ORDER BY bucket, period_type" + s.lock(),
            tenant_id,
            user_id,
            *args,
        )
        found = {(r["bucket"], r["period_type"]): _values(r) for r in rows}
        for key in keys:
            out[key] = found.get(key) or QuotaRowValues()
        return out

    async def read(
        self, tenant_id: UUID, user_id: UUID, starts: dict[str, date]
    ) -> dict[RowKey, QuotaRowValues]:
        s = self._sql
        rows = await s.fetch(
            f"SELECT {_VALUES} FROM quota_usage WHERE tenant_id = {{}} AND user_id = {{}} AND "
            "((period_type = 'daily' AND period_start = {}) OR (period_type = 'monthly' AND period_start = {}))",
            tenant_id,
            user_id,
            s.day(starts["daily"]),
            s.day(starts["monthly"]),
        )
        return {(r["bucket"], r["period_type"]): _values(r) for r in rows}

    async def add_reserved(
        self,
        tenant_id: UUID,
        user_id: UUID,
        keys: Sequence[RowKey],
        starts: dict[str, date],
        amount: int,
        now: datetime,
    ) -> None:
        if not keys:
            return
        s = self._sql
        where, args = self._keys_where(keys, starts)
        await s.execute(
            "UPDATE quota_usage SET reserved_credits_micro = reserved_credits_micro + {}, updated_at = {} "
            f"WHERE tenant_id = {{}} AND user_id = {{}} AND {where}",
            amount,
            s.ts(now),
            tenant_id,
            user_id,
            *args,
        )

    async def settle(
        self,
        tenant_id: UUID,
        user_id: UUID,
        u: RowSettlement,
        now: datetime,
        locked: QuotaRowValues | None = None,
    ) -> bool:
        s = self._sql
        current = locked
        if current is None:
            # The row may be missing only if something deleted it; recreate so spent is never lost.
            await s.execute(
                "INSERT INTO quota_usage (id, tenant_id, user_id, period_type, period_start, bucket, updated_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}) "
                "ON CONFLICT (tenant_id, user_id, period_type, period_start, bucket) DO NOTHING",
                new_uuid7(),
                tenant_id,
                user_id,
                u.period_type,
                s.day(u.period_start),
                u.bucket,
                s.ts(now),
            )
            current = await self._select(
                tenant_id, user_id, u.bucket, u.period_type, u.period_start, lock=True
            )
        clamped = current is not None and current.reserved_credits_micro < u.release_reserved
        await s.execute(
            "UPDATE quota_usage SET reserved_credits_micro = CASE WHEN reserved_credits_micro > {} "
            "THEN reserved_credits_micro - {} ELSE 0 END, spent_credits_micro = spent_credits_micro + {}, "
            "calls = calls + {}, input_tokens = input_tokens + {}, output_tokens = output_tokens + {}, "
            "web_search_calls = web_search_calls + {}, code_interpreter_calls = code_interpreter_calls + {}, "
            "file_search_calls = file_search_calls + {}, image_inputs = image_inputs + {}, updated_at = {} "
            "WHERE tenant_id = {} AND user_id = {} AND bucket = {} AND period_type = {} AND period_start = {}",
            u.release_reserved,
            u.release_reserved,
            u.add_spent,
            u.add_calls,
            u.add_input_tokens,
            u.add_output_tokens,
            u.add_web_search_calls,
            u.add_code_interpreter_calls,
            u.add_file_search_calls,
            u.add_image_inputs,
            s.ts(now),
            tenant_id,
            user_id,
            u.bucket,
            u.period_type,
            s.day(u.period_start),
        )
        return clamped
