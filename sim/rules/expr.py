"""The formula language of evaluation rules: its functions, checks and vectorised evaluation.

A formula combines numbers, named quantities (base counts, parameters, earlier indicators),
``+ - * /``, comparisons, parentheses and a fixed set of functions (`FUNCTIONS`). Its text is
parsed by `sim.rules.syntax` (a hand-written parser); nothing a user writes ever reaches
Python's ``eval``, ``exec`` or ``compile``. `check` rejects unknown names and functions, wrong
argument counts and division by anything but a non-zero constant before a log is read;
`evaluate` runs the tree on numpy arrays, one element per unit.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.rules.syntax import (
    Binary,
    Call,
    FormulaError,
    Name,
    Node,
    Num,
    Table,
    Unary,
    parse,
)

__all__ = ["FormulaError", "Formula", "FUNCTIONS", "Function", "Node", "parse", "check",
           "evaluate", "constant_value"]

Value = np.ndarray | float


# --- functions --------------------------------------------------------------------------------

def _aggregate(reduce: Callable[[np.ndarray], float]) -> Callable[..., Value]:
    def run(x: Value) -> Value:
        a = np.asarray(x, dtype=np.float64)
        return float(reduce(a)) if a.ndim == 0 or a.size else 0.0
    return run


def _ratio(num: Value, den: Value, empty: Value) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(empty), dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _tier(x: Value, tiers: list[tuple[float, float]], below: Value = 0.0) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    ordered = sorted(tiers, key=lambda ts: -ts[0])     # best (highest threshold) first
    return np.select([x >= t for t, _ in ordered], [s for _, s in ordered],
                     default=float(below))


@dataclass(frozen=True, slots=True)
class Function:
    """One function of the language: its arity, what it does, how it runs."""

    signature: str
    doc: str
    min_args: int
    max_args: int | None
    run: Callable[..., Value]
    constant: tuple[int, ...] = ()      # argument positions that must be constants
    aggregate: bool = False             # one value over all units


FUNCTIONS: Mapping[str, Function] = {
    "min": Function("min(a, b, ...)", "smallest argument, unit by unit", 2, None,
                    lambda *a: np.minimum.reduce(np.broadcast_arrays(*a))),
    "max": Function("max(a, b, ...)", "largest argument, unit by unit", 2, None,
                    lambda *a: np.maximum.reduce(np.broadcast_arrays(*a))),
    "abs": Function("abs(x)", "absolute value", 1, 1, np.abs),
    "clip": Function("clip(x, low, high)", "x held within [low, high]", 3, 3,
                     lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)),
    "ratio": Function("ratio(num, den, empty)",
                      "num / den, and the constant `empty` where den is 0 (a rate over "
                      "nothing is defined)", 3, 3, _ratio, constant=(2,)),
    "tier": Function("tier(x, [[threshold, score], ...], below)",
                     "score of the highest threshold that x reaches; `below` (default 0) "
                     "under all of them", 2, 3, _tier, constant=(1, 2)),
    "when": Function("when(condition, then, else)", "`then` where condition is true (not 0), "
                     "else `else`, unit by unit", 3, 3,
                     lambda c, a, b: np.where(np.asarray(c) != 0, a, b)),
    "highest": Function("highest(x)", "largest value of x over the table's units (0 if none)",
                        1, 1, _aggregate(np.max), aggregate=True),
    "lowest": Function("lowest(x)", "smallest value of x over the units (0 if none)", 1, 1,
                       _aggregate(np.min), aggregate=True),
    "total": Function("total(x)", "sum of x over the units", 1, 1, _aggregate(np.sum),
                      aggregate=True),
    "mean": Function("mean(x)", "mean of x over the units (0 if none)", 1, 1,
                     _aggregate(np.mean), aggregate=True),
}


# --- checking ---------------------------------------------------------------------------------

def _names_in(node: Node) -> list[Name]:
    match node:
        case Name():
            return [node]
        case Unary():
            return _names_in(node.operand)
        case Binary():
            return _names_in(node.left) + _names_in(node.right)
        case Call() | Table():
            return [n for a in (node.args if isinstance(node, Call) else node.items)
                    for n in _names_in(a)]
    return []


def _is_constant(node: Node, constants: Mapping[str, float]) -> bool:
    if isinstance(node, Call) and node.name in FUNCTIONS and FUNCTIONS[node.name].aggregate:
        return False
    return all(n.name in constants for n in _names_in(node))


def constant_value(node: Node, constants: Mapping[str, float]) -> float | None:
    """The value of a formula made of numbers and constants only; None if it needs counts."""
    if isinstance(node, Table) or not _is_constant(node, constants):
        return None
    return float(np.asarray(_eval(node, dict(constants))).reshape(-1)[0])


def _tiers(node: Node, constants: Mapping[str, float]) -> list[tuple[float, float]]:
    if not isinstance(node, Table) or not node.items:
        raise FormulaError("tier needs a list of [threshold, score] pairs, e.g. "
                           "[[0.8, 1], [0.6, 0.8], [0, 0.4]]", node.pos + 1)
    out = []
    for row in node.items:
        if not isinstance(row, Table) or len(row.items) != 2:
            raise FormulaError("each tier is a pair [threshold, score]", row.pos + 1)
        pair = [constant_value(v, constants) for v in row.items]
        if pair[0] is None or pair[1] is None:
            raise FormulaError("tier thresholds and scores must be numbers or parameters",
                               row.pos + 1)
        out.append((pair[0], pair[1]))
    return out


def check(node: Node, names: Mapping[str, str], constants: Mapping[str, float],
          unknown_hint: Callable[[str], str | None] | None = None) -> None:
    """Check a parsed formula against the names it may use.

    Args:
        names: every name the formula may read, mapped to what it is (for messages).
        constants: the names that are constants (parameters), with their values.
        unknown_hint: for a name not in `names`, an extra explanation (or None).

    Raises:
        FormulaError: an unknown name or function, a wrong number of arguments, a list where
            none belongs, a non-constant where a constant is needed, or division by zero or
            by a non-constant.
    """
    match node:
        case Num():
            return
        case Name():
            if node.name not in names:
                hint = unknown_hint(node.name) if unknown_hint else None
                close = difflib.get_close_matches(node.name, list(names), n=3)
                msg = f"unknown name {node.name!r}"
                if hint:
                    msg += f" ({hint})"
                elif close:
                    msg += f" (did you mean {' or '.join(repr(c) for c in close)}?)"
                raise FormulaError(msg, node.pos + 1)
        case Unary():
            check(node.operand, names, constants, unknown_hint)
        case Binary():
            check(node.left, names, constants, unknown_hint)
            check(node.right, names, constants, unknown_hint)
            if node.op == "/":
                den = constant_value(node.right, constants)
                if den is None:
                    raise FormulaError("'/' divides by constants only; for a rate write "
                                       "ratio(num, den, empty), which says what an empty "
                                       "denominator gives", node.pos + 1)
                if den == 0:
                    raise FormulaError("division by zero", node.pos + 1)
        case Table():
            raise FormulaError("a list [...] is only the second argument of tier",
                               node.pos + 1)
        case Call():
            _check_call(node, names, constants, unknown_hint)


def _check_call(node: Call, names: Mapping[str, str], constants: Mapping[str, float],
                unknown_hint: Callable[[str], str | None] | None) -> None:
    fn = FUNCTIONS.get(node.name)
    if fn is None:
        what = f"{node.name!r} is a {names[node.name]}, not a function" if node.name in names \
            else f"unknown function {node.name!r}"
        raise FormulaError(f"{what} (functions: {', '.join(FUNCTIONS)})", node.pos + 1)
    n = len(node.args)
    if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
        want = (f"{fn.min_args}" if fn.min_args == fn.max_args else
                f"{fn.min_args} or more" if fn.max_args is None else
                f"{fn.min_args} to {fn.max_args}")
        raise FormulaError(f"{fn.signature} takes {want} arguments, got {n}", node.pos + 1)
    for i, arg in enumerate(node.args):
        if node.name == "tier" and i == 1:
            for name in _names_in(arg):
                check(name, names, constants, unknown_hint)
            _tiers(arg, constants)
            continue
        check(arg, names, constants, unknown_hint)
        if i in fn.constant and constant_value(arg, constants) is None:
            raise FormulaError(f"argument {i + 1} of {fn.signature} must be a number or "
                               f"parameter", getattr(arg, "pos", node.pos) + 1)


# --- evaluation -------------------------------------------------------------------------------

_BINARY: Mapping[str, Callable[[Value, Value], Value]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
    "<": lambda a, b: np.less(a, b).astype(np.float64),
    "<=": lambda a, b: np.less_equal(a, b).astype(np.float64),
    ">": lambda a, b: np.greater(a, b).astype(np.float64),
    ">=": lambda a, b: np.greater_equal(a, b).astype(np.float64),
    "==": lambda a, b: np.equal(a, b).astype(np.float64),
    "!=": lambda a, b: np.not_equal(a, b).astype(np.float64),
}


def _eval(node: Node, env: Mapping[str, Value]) -> Value:
    match node:
        case Num():
            return node.value
        case Name():
            return env[node.name]
        case Unary():
            v = _eval(node.operand, env)
            return np.negative(v) if node.op == "-" else v
        case Binary():
            return _BINARY[node.op](_eval(node.left, env), _eval(node.right, env))
        case Call():
            fn = FUNCTIONS[node.name]
            args: list[object] = []
            for i, a in enumerate(node.args):
                if node.name == "tier" and i == 1:
                    args.append(_tiers(a, {k: float(v) for k, v in env.items()
                                           if np.ndim(v) == 0}))
                else:
                    args.append(_eval(a, env))
            return fn.run(*args)
    raise FormulaError("a list [...] is only the second argument of tier", node.pos + 1)


def evaluate(node: Node, env: Mapping[str, Value], n: int) -> np.ndarray:
    """The value of a checked formula for each of `n` units (float64 array of length n).

    Args:
        env: every name the formula reads: arrays of length n (counts, indicators) or
            floats (parameters).
    """
    with np.errstate(all="ignore"):
        value = _eval(node, env)
    out = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula's text and its parsed tree; `names` lists the names it reads."""

    text: str
    node: Node

    @classmethod
    def parse(cls, text: str) -> Formula:
        return cls(text, parse(text))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.name for n in _names_in(self.node)))

    def check(self, names: Mapping[str, str], constants: Mapping[str, float],
              unknown_hint: Callable[[str], str | None] | None = None) -> None:
        check(self.node, names, constants, unknown_hint)

    def evaluate(self, env: Mapping[str, Value], n: int) -> np.ndarray:
        return evaluate(self.node, env, n)
