"""Session records and rubrics on disk: JSON records written atomically, read with errors
that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from sim.data.textfile import MiB, read_text
from sim.data.yamlfile import kind_of_document, read_yaml, validate
from sim.errors import InputError
from sim.outputs.files import atomic_write
from training.cards import SessionRecord
from training.exercises import Rubric

__all__ = ["load_record", "save_record", "load_rubric"]


def load_record(path: str | Path) -> SessionRecord:
    """Read a session record (``SESSION.json``, `SessionRecord` as JSON)."""
    p = Path(path)
    text = read_text(p, "a session record (JSON)", 64 * MiB)
    try:
        return SessionRecord.model_validate_json(text)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in err["loc"])
        if err["type"] == "json_invalid":
            raise InputError(str(p), None, "", "expected a session record in JSON, got text "
                             "that is not JSON") from None
        raise InputError(str(p), None, loc, f"expected a session record field: "
                         f"{err['msg']}") from None


def save_record(record: SessionRecord, path: str | Path) -> Path:
    """Write ``record`` as indented JSON (temporary name, then rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json.loads(record.model_dump_json()), indent=1)
    return atomic_write(p, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def load_rubric(path: str | Path) -> Rubric:
    """Read a rubric YAML (the keys of an exercise's ``rubric:`` section)."""
    p = Path(path)
    data, lines = read_yaml(p)
    if not isinstance(data, dict):
        raise InputError(str(p), 1, "", f"expected a mapping of rubric keys, got "
                         f"{kind_of_document(data)}")
    return validate(Rubric, data, str(p), lines)
