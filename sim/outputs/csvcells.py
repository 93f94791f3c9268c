"""Text cells a spreadsheet will not run: the one rule every CSV GridLoop writes follows.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return before one) as a formula, so a case id, a department or
a class name such as ``=cmd|' /C calc'!A0`` would run when a planner opens the file (CSV
injection). Following OWASP's recommendation, such a text cell is written with a leading
single quote (``'=cmd...``), which spreadsheets show as text; a carriage return inside a
cell becomes a line feed, which every writer quotes. Numbers, and text that is a plain
number (``-3.5``), are left alone. GridLoop's own CSV readers undo the quote
(`restore_cell`), so a grid table it wrote reads back the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:        # a leaf module: the data layer's readers import it without pandas
    import pandas as pd

__all__ = ["safe_cell", "safe_row", "safe_frame", "restore_cell", "FORMULA_START"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading quote if it is text a spreadsheet would run as a formula,
    and carriage returns made line feeds (a writer whose lines end in LF leaves a CR
    unquoted, and spreadsheets start a new row there: ``x\r=cmd`` would be a formula)."""
    if not isinstance(value, str):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if value[:1] in FORMULA_START and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """`safe_cell` of each value of a row, for `csv.writer.writerow`."""
    return [safe_cell(v) for v in values]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with `safe_cell` applied to its text columns (a copy only if one changes),
    for `DataFrame.to_csv`."""
    from pandas.api.types import is_string_dtype

    out = frame
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object or is_string_dtype(column.dtype):
            safe = column.map(safe_cell)
            if not safe.equals(column):
                if out is frame:
                    out = frame.copy()
                out[name] = safe
    return out


def restore_cell(value: str) -> str:
    """A text cell as it was before `safe_cell` quoted it (for GridLoop's CSV readers)."""
    if value[:1] == "'" and value[1:2] in FORMULA_START:
        return value[1:]
    return value
