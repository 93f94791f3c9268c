"""A city's dispatch handbook (指挥手册) from CSV, written as handbook YAML (sim/data/taxonomy.py).

One row per subclass (小类). Columns (any order, header required):

    code                subclass code: C|E + class + "-" + subclass (``E05-01``)
    name                subclass name
    class               the class's name (its code is the code's digits 2-3)
    department          handling department (a scenario ``departments`` key)
    urgency             ``normal`` or ``urgent`` (一般 / 紧急 accepted)
    limit               handling time limit, a number > 0
    limit_unit          ``wh`` working hours, ``wd`` working days, ``h`` clock hours
                        (``working hours``, ``working days``, ``hours`` accepted)
    closing_criterion   when a case may be closed

Optional: ``name_zh``, ``class_zh``, ``filing_criterion`` and the modelling fields
``share``, ``detection``, ``citizen_rate``, ``on_spot``, ``handling_mean_hours``,
``handling_cv``. A modelling field left out takes the documented default in `DEFAULTS`
(calibration replaces share and handling hours from a case log). A bad row stops the import
with its line and column.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import yaml

from sim.data.taxonomy import Handbook, load_handbook
from sim.errors import InputError, reading
from sim.ingest.csvtable import checked_header, open_csv
from sim.outputs.files import atomic_write

__all__ = ["read_handbook_csv", "write_handbook_yaml", "handbook_rows", "DEFAULTS",
           "import_handbook"]

REQUIRED = ("code", "name", "class", "department", "urgency", "limit", "limit_unit",
            "closing_criterion")

DEFAULTS: dict[str, Any] = {
    "share": 1.0,             # every subclass equally common until a case log says otherwise
    "detection": 0.5,         # an inspector passing through notices it half the time
    "citizen_rate": 0.01,     # one public report per ~100 hours an unresolved problem lasts
    "on_spot": 0.0,           # inspectors fix none on the spot
    "handling_mean_hours": 2.0,
    "handling_cv": 0.8,       # lognormal on-site work time
}
"""Modelling fields a handbook CSV need not carry: judgement defaults, documented in
docs/import.md; `gridloop calibrate` replaces share and handling hours from a case log."""

_UNITS = {"wh": "wh", "working hours": "wh", "working hour": "wh", "工作时": "wh",
          "wd": "wd", "working days": "wd", "working day": "wd", "工作日": "wd",
          "h": "h", "hours": "h", "hour": "h", "小时": "h"}
_URGENCY = {"normal": "normal", "一般": "normal", "urgent": "urgent", "紧急": "urgent"}
_CODE = re.compile(r"([CE])(\d{2})-\d{2}")
_NUMBERS = {"share": (0.0, math.inf, False), "detection": (0.0, 1.0, True),
            "citizen_rate": (0.0, math.inf, True), "on_spot": (0.0, 1.0, True),
            "handling_mean_hours": (0.0, math.inf, False), "handling_cv": (0.0, math.inf, False)}


def _number(file: str, line: int, column: str, text: str, lo: float, hi: float,
            closed: bool) -> float:
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    ok = (lo <= x <= hi) if closed else (lo < x <= hi)
    if not ok:
        bracket = "[" if closed else "("
        raise InputError(file, line, column,
                         f"expected a number in {bracket}{lo:g}, {hi:g}], got {text!r}")
    return x


def handbook_rows(path: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(classes, subclasses) of a handbook CSV as handbook YAML data, checked row by row.

    Raises:
        InputError: ``FILE:LINE: column: expected ..., got ...`` for the first bad value.
    """
    file = str(path)
    classes: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}
    subs: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    with reading(file, "a handbook (CSV)"):
        with open_csv(path, "a handbook (CSV)") as f:
            reader = csv.DictReader(f)
            checked_header(reader, file, REQUIRED)
            for raw in reader:
                line = reader.line_num
                get = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
                if not any(get.values()):
                    continue
                subs.append(_subclass(file, line, get, classes, seen))
    if not subs:
        raise InputError(file, None, "", "expected at least one subclass row, got none")
    ordered = sorted(classes.values(), key=lambda c: (c[0]["kind"], c[0]["code"]))
    return [c for c, _ in ordered], subs


def _subclass(file: str, line: int, get: dict[str, str],
              classes: dict[tuple[str, str], tuple[dict[str, Any], int]],
              seen: dict[str, int]) -> dict[str, Any]:
    def need(column: str) -> str:
        if not get.get(column):
            raise InputError(file, line, column, "expected a value, got an empty cell")
        return get[column]

    code = need("code")
    m = _CODE.fullmatch(code)
    if not m:
        raise InputError(file, line, "code", f"expected a subclass code such as E05-01 "
                                             f"(C|E + class + '-' + subclass), got {code!r}")
    if code in seen:
        raise InputError(file, line, "code",
                         f"expected a unique code, got {code!r} again (first on line {seen[code]})")
    seen[code] = line
    kind = "component" if m.group(1) == "C" else "event"
    cls_name = need("class")
    key = (kind, m.group(2))
    if key in classes and classes[key][0]["name"] != cls_name:
        first = classes[key]
        raise InputError(file, line, "class", f"expected {first[0]['name']!r} for {kind} class "
                         f"{m.group(2)} (as on line {first[1]}), got {cls_name!r}")
    if key not in classes:
        cls: dict[str, Any] = {"kind": kind, "code": m.group(2), "name": cls_name}
        if get.get("class_zh"):
            cls["name_zh"] = get["class_zh"]
        classes[key] = (cls, line)
    urgency = _URGENCY.get(need("urgency").lower())
    if urgency is None:
        raise InputError(file, line, "urgency",
                         f"expected normal or urgent, got {get['urgency']!r}")
    unit = _UNITS.get(need("limit_unit").lower())
    if unit is None:
        raise InputError(file, line, "limit_unit", f"expected wh (working hours), wd (working "
                         f"days) or h (clock hours), got {get['limit_unit']!r}")
    limit = _number(file, line, "limit", need("limit"), 0.0, math.inf, False)
    num = {k: (_number(file, line, k, get[k], *_NUMBERS[k]) if get.get(k) else DEFAULTS[k])
           for k in _NUMBERS}
    row: dict[str, Any] = {"code": code, "name": need("name")}
    if get.get("name_zh"):
        row["name_zh"] = get["name_zh"]
    row.update({
        "department": need("department"), "urgency": urgency,
        "filing_criterion": get.get("filing_criterion") or "Not given in the handbook CSV.",
        "closing_criterion": need("closing_criterion"),
        "time_limit": {"value": _plain(limit), "unit": unit},
        "handling_hours": {"dist": "lognormal", "mean": _plain(num["handling_mean_hours"]),
                           "cv": _plain(num["handling_cv"])},
        "share": _plain(num["share"]), "detection": _plain(num["detection"]),
        "citizen_rate": _plain(num["citizen_rate"]), "on_spot": _plain(num["on_spot"]),
    })
    return row


def _plain(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 6)


def write_handbook_yaml(path: str | Path, name: str, classes: list[dict[str, Any]],
                        subclasses: list[dict[str, Any]], *, header: str = "",
                        notes: dict[str, str] | None = None) -> Path:
    """Write handbook YAML: ``header`` as opening comments, ``notes[code]`` above each row."""
    notes = notes or {}

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's is ~10x faster

    def dump(obj: Any) -> str:
        return yaml.dump(obj, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100,
                         default_flow_style=None)

    name_line = yaml.safe_dump({"name": name}, allow_unicode=True, default_flow_style=False)
    parts = [_comment(header), name_line, "\nclasses:\n"]
    parts += [_item(dump([c])) for c in classes]
    parts.append("\nsubclasses:\n")
    for s in subclasses:
        if s["code"] in notes:
            parts.append(_comment(notes[s["code"]], indent="  "))
        parts.append(_item(dump([s])) + "\n")
    text = "".join(parts)
    return atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def _item(text: str) -> str:
    return "".join(f"  {ln}\n" for ln in text.rstrip("\n").splitlines())


def _comment(text: str, indent: str = "") -> str:
    return "".join(f"{indent}# {ln}".rstrip() + "\n" for ln in text.splitlines()) if text else ""


def read_handbook_csv(path: str | Path, name: str | None = None) -> tuple[str, list, list]:
    """(name, classes, subclasses) of a handbook CSV."""
    classes, subs = handbook_rows(path)
    return name or f"Handbook imported from {Path(path).name}", classes, subs


def import_handbook(src: str | Path, dest: str | Path, *, name: str | None = None) -> Handbook:
    """Convert a handbook CSV to YAML at ``dest`` and load it back (so it is checked whole)."""
    title, classes, subs = read_handbook_csv(src, name)
    header = (f"Dispatch handbook imported from {Path(src).name} by `gridloop import-handbook`."
              "\nModelling fields the CSV did not give (share, detection, citizen_rate, "
              "on_spot,\nhandling_hours) take the defaults of docs/import.md.")
    write_handbook_yaml(dest, title, classes, subs, header=header)
    return load_handbook(dest)
