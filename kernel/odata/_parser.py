"""Recursive-descent parser for the K-12.1 grammar (``not`` > ``and`` > ``or``)."""

from __future__ import annotations

from ._ast import COMPARE_OPS, FUNCTIONS, And, Compare, Expr, Func, InList, Not, Or, Value
from ._errors import FilterTooLarge
from ._lexer import Token, syntax_error, tokenize

MAX_FILTER_LENGTH = 8192
MAX_FILTER_NODES = 2000
# Not in the K-12 table: without it 8192 "(" would exhaust Python's recursion limit here and in every tree
# walker. Reported like the node limit ("filter too complex", 400).
MAX_FILTER_DEPTH = 100


def parse_filter(text: str) -> Expr:
    """Parse ``$filter`` text into a raw AST; raises ``InvalidFilter`` (422) or ``FilterTooLarge`` (400)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterTooLarge(f"filter too long: {len(text)} characters, at most {MAX_FILTER_LENGTH} allowed")
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._i = 0
        self._nodes = 0
        self._depth = 0

    def parse(self) -> Expr:
        if self._peek().kind == "end":
            raise syntax_error("empty filter", self._peek().pos)
        expr = self._or()
        token = self._peek()
        if token.kind != "end":
            raise syntax_error(f"expected 'and', 'or' or end of filter, found {token.describe()}", token.pos)
        return expr

    def _peek(self) -> Token:
        return self._tokens[self._i]

    def _next(self) -> Token:
        token = self._tokens[self._i]
        if token.kind != "end":
            self._i += 1
        return token

    def _at_keyword(self, word: str) -> bool:
        token = self._peek()
        return token.kind == "keyword" and token.text == word

    def _expect(self, kind: str, what: str) -> Token:
        token = self._next()
        if token.kind != kind:
            raise syntax_error(f"expected {what}, found {token.describe()}", token.pos)
        return token

    def _count(self, nodes: int) -> None:
        self._nodes += nodes
        if self._nodes > MAX_FILTER_NODES:
            raise FilterTooLarge(f"filter too complex: more than {MAX_FILTER_NODES} nodes")

    def _or(self) -> Expr:
        items = [self._and()]
        while self._at_keyword("or"):
            self._next()
            items.append(self._and())
        if len(items) == 1:
            return items[0]
        self._count(1)
        return Or(tuple(items))

    def _and(self) -> Expr:
        items = [self._unary()]
        while self._at_keyword("and"):
            self._next()
            items.append(self._unary())
        if len(items) == 1:
            return items[0]
        self._count(1)
        return And(tuple(items))

    def _unary(self) -> Expr:
        token = self._peek()
        if token.kind == "keyword" and token.text == "not":
            self._next()
            with _Nesting(self, token):
                inner = self._unary()
            self._count(1)
            return Not(inner)
        if token.kind == "(":
            self._next()
            with _Nesting(self, token):
                inner = self._or()
            self._expect(")", "')'")
            return inner
        if token.kind == "keyword" and token.text in FUNCTIONS:
            return self._function()
        if token.kind == "ident":
            return self._predicate()
        raise syntax_error(f"expected a field, 'not', '(' or a function, found {token.describe()}", token.pos)

    def _function(self) -> Expr:
        name = self._next()
        self._expect("(", f"'(' after {name.text!r}")
        field = self._expect("ident", f"a field as the first argument of {name.text!r}")
        self._expect(",", "','")
        value = self._next()
        if value.value is None or value.value.kind != "string":
            raise syntax_error(
                f"expected a quoted string as the second argument of {name.text!r}, found {value.describe()}",
                value.pos,
            )
        self._expect(")", "')'")
        self._count(3)
        return Func(name.text, field.text, value.value, pos=name.pos)  # type: ignore[arg-type]

    def _predicate(self) -> Expr:
        field = self._next()
        op = self._next()
        if op.kind == "keyword" and op.text == "in":
            return self._in_list(field)
        if op.kind != "keyword" or op.text not in COMPARE_OPS:
            raise syntax_error(
                f"expected an operator (eq, ne, gt, ge, lt, le, in) after field {field.text!r}, "
                f"found {op.describe()}",
                op.pos,
            )
        value = self._literal()
        self._count(3)
        return Compare(field.text, op.text, value, pos=field.pos)  # type: ignore[arg-type]

    def _in_list(self, field: Token) -> Expr:
        self._expect("(", "'(' after 'in'")
        values: list[Value] = []
        if self._peek().kind != ")":
            values.append(self._literal())
            while self._peek().kind == ",":
                self._next()
                values.append(self._literal())
        self._expect(")", "',' or ')'")
        self._count(2 + len(values))
        return InList(field.text, tuple(values), pos=field.pos)

    def _literal(self) -> Value:
        token = self._next()
        if token.value is None:
            raise syntax_error(f"expected a literal, found {token.describe()}", token.pos)
        return token.value


class _Nesting:
    def __init__(self, parser: _Parser, token: Token) -> None:
        self._parser = parser
        self._token = token

    def __enter__(self) -> None:
        self._parser._depth += 1
        if self._parser._depth > MAX_FILTER_DEPTH:
            raise FilterTooLarge(
                f"filter too complex: nested deeper than {MAX_FILTER_DEPTH} levels "
                f"at position {self._token.pos}",
                position=self._token.pos,
            )

    def __exit__(self, *exc: object) -> None:
        self._parser._depth -= 1
