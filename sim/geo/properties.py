"""Reading the properties of a map's features: grid codes, area names, residents, hotspots.

Each reader names the feature and property it complains about (``features[3].properties.code``)
with what was expected and what was got.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sim.data.citymap import HOTSPOT_KINDS
from sim.errors import InputError

__all__ = ["MapReader", "short", "grid_code", "area_name", "residents", "hotspots",
           "check_names"]

_CODE = re.compile(r"[0-9]{15}")


class MapReader:
    """Where we are in the file, for messages."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, message: str) -> InputError:
        return InputError(self.file, None, path, message)


def short(value: Any) -> str:
    try:
        text = json.dumps(value) if not isinstance(value, str) else repr(value)
    except (RecursionError, ValueError):  # nested past Python's reach, or not JSON
        text = f"a {type(value).__name__} nested too deep to show"
    return text if len(text) <= 60 else text[:57] + "..."


def grid_code(r: MapReader, i: int, props: Mapping[str, Any], name: str, seen: dict[str, int],
          district: str | None) -> str:
    where = f"features[{i}].properties.{name}"
    if name not in props:
        raise r.fail(where, f"expected a 15-digit grid code (property {name!r}; choose another "
                     f"with --code-property), got no such property (has "
                     f"{', '.join(sorted(props)) or 'none'})")
    value = props[name]
    code = str(value).strip() if isinstance(value, str | int) and not isinstance(
        value, bool) else None
    if code is None or not _CODE.fullmatch(code):
        raise r.fail(where, f"expected 15 digits (6 district + 3 subdistrict + 3 community + "
                     f"3 sequence), got {short(value)}")
    if district is not None and code[:6] != district:
        raise r.fail(where, f"expected the district prefix {district}, got {code[:6]} in {code}")
    if code in seen:
        raise r.fail(where, f"expected a unique grid code, got {code} again "
                     f"(first on features[{seen[code]}])")
    seen[code] = i
    return code


def area_name(r: MapReader, i: int, props: Mapping[str, Any], prop: str, key: str, default: str,
          names: dict[str, tuple[str, int]]) -> None:
    """Record the name of subdistrict/community ``key``: the property, else ``default``;
    every feature of one area must agree."""
    value = props.get(prop)
    if value is None or (isinstance(value, str) and not value.strip()):
        names.setdefault(key, (default, -1))
        return
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise r.fail(f"features[{i}].properties.{prop}", f"expected a name, got {short(value)}")
    name = str(value).strip()
    old = names.get(key)
    if old is not None and old[1] >= 0 and old[0] != name:
        raise r.fail(f"features[{i}].properties.{prop}", f"expected {old[0]!r} for code digits "
                     f"{key} (as on features[{old[1]}]), got {name!r}")
    names[key] = (name, i)


def residents(r: MapReader, i: int, props: Mapping[str, Any], prop: str) -> float | None:
    if prop not in props or props[prop] is None:
        return None
    value = props[prop]
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok and isinstance(value, str):
        try:
            value, ok = float(value), True
        except ValueError:
            ok = False
    if not ok or not math.isfinite(value) or value < 0:
        raise r.fail(f"features[{i}].properties.{prop}", f"expected a number of residents "
                     f">= 0, got {short(props[prop])}")
    return float(value)


def hotspots(r: MapReader, i: int, props: Mapping[str, Any], prop: str) -> tuple[str, ...]:
    value = props.get(prop)
    if value is None or value == "":
        return ()
    kinds = [k.strip() for k in value.split(";")] if isinstance(value, str) else value
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise r.fail(f"features[{i}].properties.{prop}", f"expected hotspot kinds (a list, or "
                     f"';'-separated text), got {short(value)}")
    for k in kinds:
        if k and k not in HOTSPOT_KINDS:
            raise r.fail(f"features[{i}].properties.{prop}", f"expected hotspot kinds from "
                         f"{', '.join(HOTSPOT_KINDS)}, got {k!r}")
    return tuple(k for k in HOTSPOT_KINDS if k in kinds)


def check_names(r: MapReader, names: Mapping[str, tuple[str, int]], what: str) -> None:
    """One name per area and one area per name (communities: within their subdistrict)."""
    owner: dict[tuple[str, str], str] = {}
    for digits, (name, i) in names.items():
        key = (digits[:3] if what == "community" else "", name)
        if key in owner:
            raise r.fail(f"features[{max(i, 0)}].properties", f"expected one {what} per name, "
                         f"got {name!r} for code digits {owner[key]} and {digits}")
        owner[key] = digits
