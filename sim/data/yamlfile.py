"""Reading YAML data files so that every value remembers its line.

`read_yaml` returns plain data plus a map from key paths to 1-based line numbers;
`validate` turns pydantic errors into `InputError`s that say `FILE:LINE: key.path: ...`.
Reading is bounded (`sim.data.limits`): the file is read through `sim.data.textfile`, and
the nodes are composed from the parser's events under ceilings on depth, text length and
the node count with aliases expanded, so an alias bomb is refused without being expanded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.data.limits import NUMBER_DIGITS, TEXT_CHARS, YAML_BYTES, YAML_DEPTH, YAML_NODES
from sim.data.textfile import CONTROL, control_name, kind_of, read_text
from sim.errors import InputError, did_you_mean
from sim.i18n.catalogue import N_, gettext

__all__ = ["LineMap", "KeyProblem", "read_yaml", "parse_yaml", "load_value", "validate", "line_of",
           "describe", "kind_of_document", "expected", "bundled_names", "find_bundled",
           "YAML_SUFFIXES", "check_yaml_name"]

LineMap = dict[tuple[str | int, ...], int]
# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes, lines and
# errors, about fifteen times faster than the pure-Python one on the handbook
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
M = TypeVar("M", bound=BaseModel)
YAML_SUFFIXES = (".yaml", ".yml")


class KeyProblem(ValueError):
    """Raised by a model validator to pin its complaint on one key of the model.

    A whole-model check (``workdays`` and ``extra_workdays`` both empty) would otherwise be
    reported at the section, with the whole section as what was got; `validate` reports it at
    ``key``'s line and path, with that key's value as what was got.
    """

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(expected)
        self.key = key


# What a pydantic error type says was expected, in words a planner reads (English here,
# shown in the language in force).
_WHOLE, _NUMBER, _BOOL = N_("a whole number"), N_("a number"), N_("true or false")
_MAPPING, _LIST, _DATE = N_("a mapping (key: value)"), N_("a list"), N_("a date (YYYY-MM-DD)")
_EXPECTED = {
    "int_type": _WHOLE, "int_parsing": _WHOLE, "int_from_float": _WHOLE, "float_type": _NUMBER,
    "float_parsing": _NUMBER, "bool_type": _BOOL, "bool_parsing": _BOOL,
    "string_type": N_("text"), "dict_type": _MAPPING, "model_type": _MAPPING,
    "model_attributes_type": _MAPPING, "tuple_type": _LIST, "list_type": _LIST,
    "date_type": _DATE, "date_parsing": _DATE, "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
}
_PATTERNS = {
    r"^([01]\d|2[0-4]):[0-5]\d$": N_('a time of day "HH:MM" (00:00 to 24:00)'),
    r"^\d{6}$": N_("a 6-digit code"),
}
_BOUNDS = {"greater_than_equal": ("ge", N_("a number greater than or equal to {n}")),
           "greater_than": ("gt", N_("a number greater than {n}")),
           "less_than_equal": ("le", N_("a number less than or equal to {n}")),
           "less_than": ("lt", N_("a number less than {n}"))}
MALFORMED = N_("malformed YAML: {problem}")


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def expected(err: Any) -> str:
    """What a pydantic error (one item of ``ValidationError.errors()``) says was expected."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return gettext(_EXPECTED[kind])
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return gettext(words).format(n=_num(ctx[key]))
    if kind == "literal_error":
        return gettext("one of {choices}").format(choices=ctx["expected"])
    if kind == "string_pattern_mismatch":
        if ctx["pattern"] in _PATTERNS:
            return gettext(_PATTERNS[ctx["pattern"]])
        return gettext("text matching the pattern {pattern}").format(
            pattern=repr(ctx["pattern"]))
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return (gettext("at least {n} items") if kind == "too_short"
                else gettext("at most {n} items")).format(n=n)
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    return msg[:1].lower() + msg[1:]


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: LineMap,
          seen: set[int]) -> None:
    lines[path] = node.start_mark.line + 1
    if id(node) in seen:        # an alias: its lines are the anchor's, walked once
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            lines[(*path, key)] = k.start_mark.line + 1
            _walk(v, (*path, key), lines, seen)
            lines[(*path, key)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, (*path, i), lines, seen)


def read_yaml(path: str | Path, what: str = "a YAML file") -> tuple[Any, LineMap]:
    """Parse a YAML file into plain data and a line map; a file that is not a regular UTF-8
    file within `limits.YAML_BYTES`, or malformed or oversized YAML, raises InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), None, "", gettext("no such file"))
    return parse_yaml(read_text(p, what, YAML_BYTES), str(p))


def parse_yaml(text: str, file: str) -> tuple[Any, LineMap]:
    """`read_yaml` of text already read from ``file`` (the name its errors give)."""
    loader = _Loader(text)
    try:
        node = _compose(loader, file)            # one parse: the nodes carry the lines,
        data = None if node is None else loader.construct_document(node)   # and the data
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, line, "", gettext(MALFORMED).format(
            problem=e.problem or e)) from None
    except yaml.YAMLError as e:                  # libyaml's reader: no mark to give
        raise InputError(file, None, "", gettext(MALFORMED).format(problem=e)) from None
    except (ValueError, TypeError, OverflowError) as e:   # a value PyYAML cannot build
        raise InputError(file, None, "", gettext(MALFORMED).format(problem=gettext(
            "a value that cannot be read ({error})").format(
            error=f"{type(e).__name__}: {str(e)[:80]}"))) from None
    finally:
        loader.dispose()
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), lines, set())
    return data, lines


def load_value(text: str, source: str, key: str = "") -> Any:
    """A command-line value (``--set key=VALUE``) read as YAML under the same ceilings as a
    file; text that is not YAML stays text.

    Raises:
        InputError: the value passes a ceiling or is an impossible date (``source`` names
            the option, ``key`` the key it sets).
    """
    try:
        return parse_yaml(text, source)[0]
    except InputError as e:
        if e.message.startswith(gettext(MALFORMED).partition("{")[0]):
            return text
        raise InputError(source, None, key, e.message) from None


_Collection = yaml.SequenceNode | yaml.MappingNode


def _compose(loader: Any, file: str) -> yaml.Node | None:
    """The node tree of the single document in ``loader``'s stream, built from its events
    with the ceilings of `sim.data.limits`: nesting depth, text length, digits of a number,
    and the number of nodes once aliases are expanded (counted, never expanded: an alias is
    the anchored node itself, as in PyYAML's own composer). A recursive alias is refused.

    Raises:
        InputError: at the line where a ceiling is passed.
    """
    def refuse(event: yaml.Event, message: str) -> InputError:
        return InputError(file, event.start_mark.line + 1, "", message)

    loader.get_event()                                   # stream start
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return None
    loader.get_event()                                   # document start
    anchors: dict[str, yaml.Node] = {}
    size: dict[int, int] = {}          # nodes under each closed node, aliases expanded
    open_: list[tuple[_Collection, list[yaml.Node]]] = []   # with each one's children
    resolve, get_event = loader.resolve, loader.get_event
    while True:
        event = get_event()
        kind = type(event)
        node: yaml.Node
        if kind is yaml.ScalarEvent:
            value = event.value
            tag = event.tag if event.tag not in (None, "!") else resolve(
                yaml.ScalarNode, value, event.implicit)
            if len(value) > TEXT_CHARS:
                raise refuse(event, f"expected a value of at most {TEXT_CHARS:,} characters, "
                             f"got {len(value):,}")
            if len(value) > NUMBER_DIGITS and tag in _NUMBER_TAGS:
                raise refuse(event, f"expected a number of at most {NUMBER_DIGITS} digits, "
                             f"got {len(value):,} characters")
            if (bad := CONTROL.search(value)) is not None:
                raise refuse(event, f"expected text without control characters, got "
                             f"{control_name(bad.group())} in a value")
            node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark,
                                   style=event.style)
            if tag == _TIMESTAMP:
                try:                          # an impossible date fails here, located
                    loader.construct_yaml_timestamp(node)
                except (ValueError, OverflowError) as e:
                    raise refuse(event, f"expected a real date (YYYY-MM-DD), got "
                                 f"{value[:40]!r} ({e})") from None
            size[id(node)] = 1
            if event.anchor is not None:
                anchors[event.anchor] = node
        elif kind is yaml.AliasEvent:
            if event.anchor not in anchors:
                raise refuse(event, f"malformed YAML: found undefined alias {event.anchor!r}")
            node = anchors[event.anchor]
            if id(node) not in size:
                raise refuse(event, f"expected YAML without recursive aliases, got alias "
                             f"{event.anchor!r} inside its own anchor")
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            if len(open_) >= YAML_DEPTH:
                raise refuse(event, f"expected YAML nested at most {YAML_DEPTH} deep, got "
                             "deeper")
            cls = yaml.SequenceNode if kind is yaml.SequenceStartEvent else yaml.MappingNode
            tag = event.tag if event.tag not in (None, "!") else resolve(
                cls, None, event.implicit)
            coll = cls(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = coll
            open_.append((coll, []))
            continue
        else:                                          # the end of a sequence or mapping
            coll, children = open_.pop()
            coll.end_mark = event.end_mark
            if kind is yaml.MappingEndEvent:
                coll.value = list(zip(children[::2], children[1::2], strict=True))
            else:
                coll.value = children
            total = 1 + sum([size[id(c)] for c in children])
            if total > YAML_NODES:
                raise InputError(file, coll.start_mark.line + 1, "", f"expected at most "
                                 f"{YAML_NODES:,} values with aliases expanded, got more "
                                 "(aliases that multiply each other)")
            size[id(coll)] = total
            node = coll
        if not open_:
            break
        open_[-1][1].append(node)
    loader.get_event()                                   # document end
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        raise refuse(event, "expected a single YAML document, got another after it")
    return node


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


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
    if p.suffix in YAML_SUFFIXES:
        check_yaml_name(p, what)
        return p
    q = folder / f"{name_or_file}.yaml"
    if q.exists():
        return q
    if p.exists():
        check_yaml_name(p, what)
    names = bundled_names(folder)
    raise InputError(str(name_or_file), None, "", f"no such file or bundled {what} "
                     f"(bundled: {', '.join(names)})" + did_you_mean(str(name_or_file), names))


def check_yaml_name(path: Path, what: str) -> None:
    """A file named as YAML must be one by name, also where a link leads (so a link named
    ``x.yaml`` cannot pass ``/etc/shadow`` off as a scenario).

    Raises:
        InputError: naming the path and what it is, never what it holds.
    """
    target = path.resolve()
    if path.suffix in YAML_SUFFIXES and (target.suffix in YAML_SUFFIXES
                                         or not target.exists()):
        return
    found = kind_of(target.stat().st_mode) if target.exists() else "no such file"
    if found == "a regular file":
        found = "a file not ending in .yaml or .yml" + (
            f" (a link to {target})" if target != path.absolute() else "")
    raise InputError(str(path), None, "", f"expected a {what} file (.yaml or .yml), got "
                     f"{str(path)!r}, {found}")


def line_of(lines: LineMap, loc: tuple[str | int, ...]) -> int | None:
    """Line of the deepest prefix of ``loc`` that the file has (None if none)."""
    for n in range(len(loc), -1, -1):
        if (ln := lines.get(tuple(loc[:n]))) is not None:
            return ln
    return None


def kind_of_document(data: Any) -> str:
    """What a YAML document is, without its content (for a file that should have been a
    mapping: the file may be anything, ``base: /etc/shadow``)."""
    if data is None:
        return "an empty document"
    if isinstance(data, list):
        return f"a list of {len(data)} items"
    if isinstance(data, str):
        return f"text ({len(data):,} characters), not a mapping"
    return f"a single {type(data).__name__} value"


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
            msg = (gettext("expected one of {keys}, got unknown key {key}").format(
                keys=keys, key=repr(loc[-1])) + did_you_mean(str(loc[-1]), keys.split(", ")))
        elif kind == "missing":
            msg = gettext("expected a value, got nothing (the key is required)")
        else:
            inp = err.get("input")
            got = describe(inp)
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, KeyProblem):  # a whole-model check about one of its keys
                full = (*full, cause.key)
                path = ".".join(str(x) for x in full)
                has = isinstance(inp, dict) and cause.key in inp
                got = describe(inp[cause.key]) if has else gettext("the default")
            elif kind in ("too_short", "too_long") and isinstance(inp, list | tuple):
                got = gettext("{n} items").format(n=len(inp))
            msg = gettext("expected {what}, got {got}").format(what=expected(err), got=got)
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
