"""The syntax of the evaluation formula language: tokens, a tiny tree, and its parser.

A hand-written tokenizer and recursive-descent parser turn formula text into `Node`s (numbers,
names, unary and binary operations, calls and bracketed lists), recording the offset of each
so that errors point at a column. Nothing here evaluates anything; `sim.rules.expr` checks and
runs the tree.

Grammar (docs/rules.md)::

    formula    := comparison
    comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | primary
    primary    := NUMBER | NAME | NAME "(" [arg ("," arg)*] ")" | "(" comparison ")"
    arg        := comparison | "[" [arg ("," arg)*] "]"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sim.errors import GridLoopError

__all__ = ["FormulaError", "Node", "Num", "Name", "Unary", "Binary", "Call", "Table", "parse",
           "MAX_LENGTH", "MAX_DEPTH", "MAX_OPERATORS"]

MAX_LENGTH = 2000      # characters in one formula
MAX_DEPTH = 40         # nested parentheses, brackets and unary signs
MAX_OPERATORS = 200    # binary operators: a chain of them is as deep a tree, which checking
#                        and evaluating walk recursively


class FormulaError(GridLoopError):
    """A formula that cannot be read or run; `column` (1-based) points into its text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.message, self.column = message, column


# --- the tree ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Table:
    """A bracketed list; only a function argument (the tiers of `tier`)."""

    items: tuple[Node, ...]
    pos: int


Node = Num | Name | Unary | Binary | Call | Table


# --- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|[-+*/()\[\],<>])
""", re.VERBOSE)
_WHY_NOT = {".": "formulas have no attribute access", "'": "formulas have no text",
            '"': "formulas have no text", "=": "compare with '=='", "%": "write 0.7, not 70%",
            "^": "there is no power operator", "!": "negate a comparison by swapping it"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str       # num, name, op, end
    text: str
    pos: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            ch = text[i]
            why = _WHY_NOT.get(ch)
            raise FormulaError(f"unexpected character {ch!r}" + (f" ({why})" if why else ""),
                               i + 1)
        kind = m.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, m.group(), i))
        i = m.end()
    out.append(_Token("end", "", len(text)))
    return out


# --- parser -----------------------------------------------------------------------------------

_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.operators = 0

    @property
    def tok(self) -> _Token:
        return self.toks[self.i]

    def fail(self, expected: str) -> FormulaError:
        t = self.tok
        got = "the end of the formula" if t.kind == "end" else repr(t.text)
        return FormulaError(f"expected {expected}, got {got}", t.pos + 1)

    def take(self, text: str) -> bool:
        if self.tok.kind == "op" and self.tok.text == text:
            self.i += 1
            return True
        return False

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"formula nested more than {MAX_DEPTH} deep",
                               self.toks[self.i - 1].pos + 1)

    def operator(self, t: _Token) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise FormulaError(f"formula with more than {MAX_OPERATORS} operators (split it "
                               "into indicators that build on each other)", t.pos + 1)

    def formula(self) -> Node:
        node = self.comparison()
        if self.tok.kind != "end":
            raise self.fail("an operator or the end of the formula")
        return node

    def comparison(self) -> Node:
        left = self.sum()
        t = self.tok
        if t.kind == "op" and t.text in _COMPARISONS:
            self.i += 1
            self.operator(t)
            node: Node = Binary(t.text, left, self.sum(), t.pos)
            t2 = self.tok
            if t2.kind == "op" and t2.text in _COMPARISONS:
                raise FormulaError("comparisons do not chain (write two and combine them)",
                                   t2.pos + 1)
            return node
        return left

    def sum(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            t = self.tok
            self.i += 1
            self.operator(t)
            node = Binary(t.text, node, self.product(), t.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            t = self.tok
            self.i += 1
            self.operator(t)
            node = Binary(t.text, node, self.unary(), t.pos)
        return node

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.i += 1
            self.nest()
            node = Unary(t.text, self.unary(), t.pos)
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return Num(float(t.text), t.pos)
        if t.kind == "name":
            self.i += 1
            if not self.take("("):
                return Name(t.text, t.pos)
            self.nest()
            args = self.items(")", self.arg)
            self.depth -= 1
            return Call(t.text, args, t.pos)
        if self.take("("):
            self.nest()
            node = self.comparison()
            if not self.take(")"):
                raise self.fail("')'")
            self.depth -= 1
            return node
        if t.kind == "op" and t.text == "[":
            raise FormulaError("a list [...] is only a function argument (tier)", t.pos + 1)
        raise self.fail("a number, a name, a function call or '('")

    def arg(self) -> Node:
        t = self.tok
        if self.take("["):
            self.nest()
            node = Table(self.items("]", self.arg), t.pos)
            self.depth -= 1
            return node
        return self.comparison()

    def items(self, close: str, item: Callable[[], Node]) -> tuple[Node, ...]:
        out: list[Node] = []
        if self.take(close):
            return ()
        while True:
            out.append(item())
            if self.take(close):
                return tuple(out)
            if not self.take(","):
                raise self.fail(f"',' or {close!r}")


def parse(text: str) -> Node:
    """The tree of a formula.

    Raises:
        FormulaError: bad syntax, with the column where reading stopped.
    """
    if not isinstance(text, str):
        raise FormulaError(f"expected a formula (text), got {type(text).__name__}", 1)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
    if not text.strip():
        raise FormulaError("expected a formula, got nothing", 1)
    return _Parser(text).formula()
