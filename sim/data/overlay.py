"""Scenario overlays: a short file that names a ``base:`` scenario and changes a few keys.

A governance preset (``scenarios/governance/*.yaml``) or a researcher's variant is written as

    base: dongcheng              # a bundled name, or a path relative to this file
    name: my-variant
    inspectors: {count: 300}     # only what changes

`read_layers` reads the file and, recursively, its bases; `merge` lays each file over the one
below it: mappings merge key by key, lists and plain values replace. Paths a base names
(its grid table and handbook) are rewritten relative to the top file's folder, so they keep
pointing at the base's files and the merged scenario's digest does not depend on where the
project is installed. Every merged value remembers the file and line it came from
(`Origins`), so a bad value in a base is reported at the base's line, one in the overlay at
the overlay's.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.data.yamlfile import LineMap, kind_of_document, line_of, read_yaml
from sim.errors import InputError

__all__ = ["Origins", "Layered", "read_layers", "merge", "PATH_KEYS"]

# Keys whose values are paths relative to the file that sets them.
PATH_KEYS: tuple[tuple[str, str], ...] = (("city", "grids_file"), ("handbook", "file"))


@dataclass
class Origins:
    """Where each key path of merged data was written: a line map per file."""

    layers: list[tuple[str, LineMap]] = field(default_factory=list)  # top file first

    def where(self, loc: tuple[str | int, ...]) -> tuple[str, int | None]:
        """The file and line of the deepest prefix of ``loc`` that some layer wrote (the
        top-most layer that has the longest prefix wins)."""
        for n in range(len(loc), 0, -1):
            for file, lines in self.layers:
                if (ln := lines.get(tuple(loc[:n]))) is not None:
                    return file, ln
        file, lines = self.layers[0]
        return file, line_of(lines, ())

    def where_dotted(self, path: str) -> tuple[str, int | None]:
        """`where` for a dotted key path as `InputError.path` spells it."""
        parts: list[str | int] = []
        for p in path.split(".") if path else ():
            parts.append(int(p) if p.isdigit() and not self._has((*parts, p)) else p)
        return self.where(tuple(parts))

    def _has(self, loc: tuple[str | int, ...]) -> bool:
        return any(loc in lines for _, lines in self.layers)


@dataclass
class Layered:
    """A scenario file with its bases merged in: data, origins, and the chain of files."""

    data: dict[str, Any]
    origins: Origins
    chain: list[Path]  # the top file first, then its base, its base's base...


def merge(below: Any, above: Any) -> Any:
    """``above`` laid over ``below``: mappings merge by key, anything else replaces."""
    if isinstance(below, dict) and isinstance(above, dict):
        out = dict(below)
        for k, v in above.items():
            out[k] = merge(below[k], v) if k in below else copy.deepcopy(v)
        return out
    return copy.deepcopy(above)


def _rebase(data: dict[str, Any], source: Path, target: Path) -> None:
    """Rewrite relative paths written in ``source``'s folder to be relative to ``target``'s."""
    if source.parent.resolve() == target.parent.resolve():
        return
    for section, key in PATH_KEYS:
        node = data.get(section)
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and value and not Path(value).is_absolute():
            full = (source.parent / value).resolve()
            node[key] = Path(os.path.relpath(full, target.parent.resolve())).as_posix()


def read_layers(path: Path, find: Any, *, _seen: tuple[Path, ...] = ()) -> Layered:
    """Read ``path`` and every base under it, merged (top file's values win).

    ``find(name, folder)`` turns a ``base:`` value into a file (a path relative to the
    overlay's folder, or a bundled name).

    Raises:
        InputError: malformed files, a ``base:`` that names nothing or loops back, naming the
            file and line of the offending ``base:``.
    """
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(str(path), 1, "", f"expected a mapping of scenario keys, got "
                         f"{kind_of_document(data)}")
    here = (*_seen, path.resolve())
    if "base" not in data:
        return Layered(data, Origins([(str(path), lines)]), [path])
    base = data.pop("base")
    line = lines.get(("base",))
    if not isinstance(base, str) or not base.strip():
        raise InputError(str(path), line, "base",
                         f"expected a scenario file or bundled name, got {base!r}")
    try:
        base_path = find(base.strip(), path.parent)
    except InputError as e:
        if e.message.startswith("expected"):    # a file, but not a scenario file: what it is
            raise InputError(str(path), line, "base", e.message) from None
        raise InputError(str(path), line, "base", f"expected a scenario file or bundled name, "
                         f"got {base!r}: {e.message}") from None
    if base_path.resolve() in here:
        loop = " -> ".join(p.name for p in (*here, base_path.resolve()))
        raise InputError(str(path), line, "base",
                         f"expected a scenario that does not include itself, got a loop: {loop}")
    try:
        below = read_layers(base_path, find, _seen=here)
    except InputError as e:
        if e.file == str(base_path) and e.line is None:  # unreadable: say who named it
            raise InputError(str(path), line, "base",
                             f"expected a readable scenario file, got {base!r} "
                             f"({e.message})") from None
        raise
    _rebase(below.data, base_path, path)
    data.setdefault("name", path.stem)  # an overlay is its own scenario, not its base
    return Layered(merge(below.data, data),
                   Origins([(str(path), lines), *below.origins.layers]),
                   [path, *below.chain])
