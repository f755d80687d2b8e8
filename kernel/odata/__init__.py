"""OData-lite query parameters (K-12): ``$filter``, ``$orderby``, ``$select``, ``limit``, ``cursor``.

Pure (stdlib + msgspec). The db layer compiles the typed filter AST to SQL and calls ``build_page`` (or
``QueryPlan.page``); ``evaluate``/``paginate_rows`` are the in-memory reference semantics.
"""

from ._ast import (
    COMPARE_OPS,
    FUNCTIONS,
    ORDERING_OPS,
    And,
    Compare,
    CompareOp,
    Expr,
    Func,
    FuncName,
    InList,
    Not,
    Or,
    Value,
    ValueKind,
    node_count,
    walk,
)
from ._check import check_filter, resolve_filter
from ._cursor import MAX_CURSOR_LENGTH, CursorV1, Direction, key_from_text, key_to_text
from ._errors import FilterTooLarge, InvalidCursor, InvalidFilter, InvalidLimit, InvalidOrderBy, InvalidSelect
from ._evaluate import evaluate
from ._fields import FIELD_KINDS, Field, FieldKind, FieldMap
from ._limit import parse_limit
from ._orderby import MAX_ORDERBY_FIELDS, MAX_ORDERBY_LENGTH, OrderBy, SortDir, effective_order, parse_orderby
from ._page import KeyOf, Page, PageInfo, build_page, cursor_predicate, default_key_of, sort_rows
from ._parser import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_NODES, parse_filter
from ._printer import canonical_filter, filter_hash, print_filter
from ._query import QueryPlan, paginate_rows, plan_query
from ._select import MAX_SELECT_FIELDS, MAX_SELECT_LENGTH, apply_select, parse_select

ODATA_ERRORS = (InvalidFilter, InvalidOrderBy, InvalidCursor, InvalidLimit, InvalidSelect)

__all__ = [
    "COMPARE_OPS",
    "FIELD_KINDS",
    "FUNCTIONS",
    "MAX_CURSOR_LENGTH",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LENGTH",
    "MAX_FILTER_NODES",
    "MAX_ORDERBY_FIELDS",
    "MAX_ORDERBY_LENGTH",
    "MAX_SELECT_FIELDS",
    "MAX_SELECT_LENGTH",
    "ODATA_ERRORS",
    "ORDERING_OPS",
    "And",
    "Compare",
    "CompareOp",
    "CursorV1",
    "Direction",
    "Expr",
    "Field",
    "FieldKind",
    "FieldMap",
    "FilterTooLarge",
    "Func",
    "FuncName",
    "InList",
    "InvalidCursor",
    "InvalidFilter",
    "InvalidLimit",
    "InvalidOrderBy",
    "InvalidSelect",
    "KeyOf",
    "Not",
    "Or",
    "OrderBy",
    "Page",
    "PageInfo",
    "QueryPlan",
    "SortDir",
    "Value",
    "ValueKind",
    "apply_select",
    "build_page",
    "canonical_filter",
    "check_filter",
    "cursor_predicate",
    "default_key_of",
    "effective_order",
    "evaluate",
    "filter_hash",
    "key_from_text",
    "key_to_text",
    "node_count",
    "paginate_rows",
    "parse_filter",
    "parse_limit",
    "parse_orderby",
    "parse_select",
    "plan_query",
    "print_filter",
    "resolve_filter",
    "sort_rows",
    "walk",
]
