"""Reading YAML data files so that every value remembers its line.

`read_yaml` returns plain data plus a map from key paths to 1-based line numbers;
`validate` turns pydantic errors into `InputError`s that say `FILE:LINE: key.path: ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError, did_you_mean

__all__ = ["LineMap", "KeyProblem", "read_yaml", "parse_yaml", "validate", "line_of",
           "describe", "expected", "bundled_names", "find_bundled"]

LineMap = dict[tuple[str | int, ...], int]
# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes, lines and
# errors, about fifteen times faster than the pure-Python one on the handbook
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)


class KeyProblem(ValueError):
    """Raised by a model validator to pin its complaint on one key of the model.

    A whole-model check (``workdays`` and ``extra_workdays`` both empty) would otherwise be
    reported at the section, with the whole section as what was got; `validate` reports it at
    ``key``'s line and path, with that key's value as what was got.
    """

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(expected)
        self.key = key


# What a pydantic error type says was expected, in words a planner reads.
_EXPECTED = {
    "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "string_type": "text",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "tuple_type": "a list",
    "list_type": "a list", "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)", "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
}
_PATTERNS = {
    r"^([01]\d|2[0-4]):[0-5]\d$": 'a time of day "HH:MM" (00:00 to 24:00)',
    r"^\d{6}$": "a 6-digit code",
}
_BOUNDS = {"greater_than_equal": ("ge", "greater than or equal to"),
           "greater_than": ("gt", "greater than"),
           "less_than_equal": ("le", "less than or equal to"), "less_than": ("lt", "less than")}


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def expected(err: Any) -> str:
    """What a pydantic error (one item of ``ValidationError.errors()``) says was expected."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"a number {words} {_num(ctx[key])}"
    if kind == "literal_error":
        return f"one of {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return _PATTERNS.get(ctx["pattern"], f"text matching the pattern {ctx['pattern']!r}")
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"{'at least' if kind == 'too_short' else 'at most'} {n} items"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    return msg[:1].lower() + msg[1:]


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: LineMap) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            lines[(*path, key)] = k.start_mark.line + 1
            _walk(v, (*path, key), lines)
            lines[(*path, key)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, (*path, i), lines)


def read_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Parse a YAML file into plain data and a line map; malformed YAML raises InputError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(p), None, "", "no such file") from None
    except OSError as e:
        raise InputError(str(p), None, "", f"cannot read: {e.strerror}") from None
    return parse_yaml(text, str(p))


def parse_yaml(text: str, file: str) -> tuple[Any, LineMap]:
    """`read_yaml` of text already read from ``file`` (the name its errors give)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()          # one parse: the nodes carry the lines,
        data = None if node is None else loader.construct_document(node)   # and the data
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, line, "", f"malformed YAML: {e.problem or e}") from None
    finally:
        loader.dispose()
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def bundled_names(folder: Path, subfolders: tuple[str, ...] = ()) -> list[str]:
    """Names of the YAML files shipped in ``folder`` (file stems, sorted), and of those in
    its ``subfolders`` as ``subfolder/stem``."""
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    for sub in subfolders:
        names += sorted(f"{sub}/{p.stem}" for p in (folder / sub).glob("*.yaml"))
    return names


def find_bundled(name_or_file: str | Path, folder: Path, what: str) -> Path:
    """A YAML file from a path, or from a bundled name in ``folder``.

    Raises:
        InputError: neither a file nor a bundled name (the message lists the bundled ones).
    """
    p = Path(name_or_file)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    q = folder / f"{name_or_file}.yaml"
    if q.exists():
        return q
    names = bundled_names(folder)
    raise InputError(str(name_or_file), None, "", f"no such file or bundled {what} "
                     f"(bundled: {', '.join(names)})" + did_you_mean(str(name_or_file), names))


def line_of(lines: LineMap, loc: tuple[str | int, ...]) -> int | None:
    """Line of the deepest prefix of ``loc`` that the file has (None if none)."""
    for n in range(len(loc), -1, -1):
        if (ln := lines.get(tuple(loc[:n]))) is not None:
            return ln
    return None


def describe(value: Any) -> str:
    """Short description of a user-given value for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def validate(model: type[M], data: Any, file: str, lines: LineMap,
             prefix: tuple[str | int, ...] = ()) -> M:
    """Validate ``data`` into ``model``; the first error becomes a located InputError."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        # a misspelt key is both unknown and (if required) missing: report the typo
        err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        full = (*prefix, *loc)
        path = ".".join(str(x) for x in full)
        kind = err["type"]
        if kind == "extra_forbidden":
            keys = model_keys(model, loc)
            msg = (f"expected one of {keys}, got unknown key {loc[-1]!r}"
                   + did_you_mean(str(loc[-1]), keys.split(", ")))
        elif kind == "missing":
            msg = "expected a value, got nothing (the key is required)"
        else:
            inp = err.get("input")
            got = describe(inp)
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, KeyProblem):  # a whole-model check about one of its keys
                full = (*full, cause.key)
                path = ".".join(str(x) for x in full)
                has = isinstance(inp, dict) and cause.key in inp
                got = describe(inp[cause.key]) if has else "the default"
            elif kind in ("too_short", "too_long") and isinstance(inp, list | tuple):
                got = f"{len(inp)} items"
            msg = f"expected {expected(err)}, got {got}"
        raise InputError(file, line_of(lines, full), path, msg) from None


def model_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The keys allowed where an unknown key was found, for the error message."""
    m: Any = model
    in_dict = False
    for part in loc[:-1]:
        if isinstance(part, int) or in_dict:
            in_dict = False
            continue  # a list position or a mapping's own key: same model as its items
        fields = getattr(m, "model_fields", None)
        if fields is None or part not in fields:
            return "the documented keys"
        ann = fields[part].annotation
        inner = [a for a in getattr(ann, "__args__", ()) if isinstance(a, type)
                 and issubclass(a, BaseModel)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            m = ann
        elif inner:
            m = inner[-1]
            in_dict = getattr(ann, "__origin__", None) is dict
        else:
            return "the documented keys"
    fields = getattr(m, "model_fields", {})
    return ", ".join(sorted(fields)) or "the documented keys"
