"""Query-parameter errors with the exact statuses and codes of the K-12 table."""

from __future__ import annotations

from fabrikit.kernel.errors import InvalidArgument, Unprocessable


class InvalidFilter(Unprocessable):
    """A ``$filter`` that does not parse or does not fit the resource's fields (422).

    ``position`` (1-based character offset into ``$filter``) is set when the error points at a place in the
    text.
    """

    code, status, title = "invalid_filter", 422, "Invalid filter"
    extensions = ("position",)


class FilterTooLarge(InvalidFilter):
    """A ``$filter`` over the size limits: same code, but 400 (refused before/while parsing)."""

    status = 400


class InvalidOrderBy(Unprocessable):
    code, status, title = "invalid_orderby", 422, "Invalid orderby"


class InvalidCursor(Unprocessable):
    code, status, title = "invalid_cursor", 422, "Invalid cursor"


class InvalidLimit(Unprocessable):
    code, status, title = "invalid_limit", 422, "Invalid limit"


class InvalidSelect(InvalidArgument):
    code, status, title = "invalid_select", 400, "Invalid select"
