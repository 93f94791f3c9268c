"""Files that cannot be read give one located message, whatever reader met them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.data.citymap import load_city
from sim.errors import InputError
from sim.ingest.caselog import read_caselog
from sim.ingest.handbook_csv import import_handbook


def _grid(path: Path) -> None:
    load_city(path, "110101")


def _log(path: Path) -> None:
    read_caselog(path)


def _handbook(path: Path) -> None:
    import_handbook(path, path.parent / "out.yaml")


@pytest.mark.parametrize("read, what", [(_grid, "a grid table (CSV)"),
                                        (_log, "a case log (CSV)"),
                                        (_handbook, "a handbook (CSV)")])
def test_missing_undecodable_and_unreadable_files(tmp_path: Path, read, what: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match=f"expected {what.replace('(', '.').replace(')', '.')}, "
                                         "got no such file"):
        read(tmp_path / "nothing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("code,名\n".encode("gb18030"))
    with pytest.raises(InputError, match="expected UTF-8 text"):
        read(latin)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=f"^{folder}: expected .*, got a folder"):
        read(folder)
