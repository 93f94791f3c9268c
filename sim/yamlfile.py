"""Reading YAML data files so that every value remembers its line.

`read_yaml` returns plain data plus a map from key paths to 1-based line numbers;
`validate` turns pydantic errors into `InputError`s that say `FILE:LINE: key.path: ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError

__all__ = ["LineMap", "read_yaml", "validate", "line_of", "describe"]

LineMap = dict[tuple[str | int, ...], int]
M = TypeVar("M", bound=BaseModel)


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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(str(p), line, "", f"malformed YAML: {e.problem or e}") from None
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


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
        err = e.errors(include_url=False)[0]
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        full = (*prefix, *loc)
        path = ".".join(str(x) for x in full)
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"unknown key (not one of {model_keys(model, loc)})"
        elif kind == "missing":
            msg = "expected a value, got nothing (the key is required)"
        else:
            got = describe(err.get("input"))
            msg = f"expected {err['msg'].removeprefix('Value error, ').lower()}, got {got}"
        raise InputError(file, line_of(lines, full), path, msg) from None


def model_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The keys allowed where an unknown key was found, for the error message."""
    m: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # a list position: same model as the list's items
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
        else:
            return "the documented keys"
    fields = getattr(m, "model_fields", {})
    return ", ".join(sorted(fields)) or "the documented keys"
