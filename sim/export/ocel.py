"""A run's event log as an OCEL 2.0 JSON object-centric event log, for process-mining tools.

OCEL 2.0 (ocel-standard.org) keeps events and the objects they touch side by side, so one
log can be mined per case, per problem, per department or per inspector without flattening.
GridLoop writes:

- object types ``case`` (the platform's record: subclass, grid, channel, final state),
  ``problem`` (ground truth: true subclass, grid, fate), ``department`` and ``inspector`` (one
  object per beat: the inspectors of a beat's shifts share its number, as in the log);
- one event type per step of the closed loop (``report``, ``file``, ``dispatch``, ...), with
  the attributes ``outcome``, ``actor_kind``, ``actor`` and, where the row sets one,
  ``deadline``;
- one event per row of events.parquet (id ``e<row>``, in file order), related to its case
  (qualifier ``case``), its problem (``problem``; a false report has none), the department on
  department and dispatch
  steps (``dispatched to``, ``returned by``, ``handled by``) and the inspector's beat on
  inspector steps (``reported by``, ``verified by``, ``checked by``, ``fixed by``);
- object-to-object relationships case -> problem (``concerns``).

Attribute values are written as strings, as the published OCEL 2.0 JSON schema requires
(``ocel20-schema.json`` beside this module; the declared types say how to read them back):
`check_ocel` validates a document against it with ``jsonschema``.

Problems without any case (never found) are left out: they have no events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from sim.export.source import RunSource
from sim.outputs.files import atomic_write

__all__ = ["OBJECT_TYPES", "write_ocel", "ocel_document", "check_ocel", "SCHEMA_FILE"]

SCHEMA_FILE = Path(__file__).with_name("ocel20-schema.json")
"""The OCEL 2.0 JSON schema as published with the OCEL 2.0 specification (ocel-standard.org,
"OCEL 2.0 JSON format": the JSON-Schema of the JSON serialisation)."""


def check_ocel(document: dict) -> list[str]:
    """Problems of an OCEL 2.0 JSON document against the published schema (``[]``: valid),
    each as ``path: message``."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator.iter_errors(document)]

OBJECT_TYPES: dict[str, list[dict[str, str]]] = {
    "case": [{"name": "subclass", "type": "string"}, {"name": "grid_code", "type": "string"},
             {"name": "channel", "type": "string"}, {"name": "state", "type": "string"}],
    "problem": [{"name": "subclass", "type": "string"}, {"name": "grid_code", "type": "string"},
                {"name": "fate", "type": "string"}],
    "department": [{"name": "name", "type": "string"}],
    "inspector": [{"name": "beat", "type": "integer"}],
}
EVENT_ATTRIBUTES: list[dict[str, str]] = [
    {"name": "outcome", "type": "string"}, {"name": "actor_kind", "type": "string"},
    {"name": "actor", "type": "integer"}, {"name": "deadline", "type": "time"}]

_DEPARTMENT_ROLE = {"dispatch": "dispatched to", "return": "returned by", "extend": "handled by",
                    "suspend": "handled by", "handle_start": "handled by", "handle": "handled by"}
_INSPECTOR_ROLE = {"report": "reported by", "verify": "verified by", "check": "checked by",
                   "self_handle": "fixed by"}
_CHANNEL = {1: "inspector", 2: "public"}


def _events(run: RunSource) -> Iterator[dict]:
    e = run.events
    n = len(e)
    times = run.times(e["time_min"])
    deadlines = run.times(e["deadline_min"].astype(float))
    steps = e["step"].astype(str).to_numpy()
    kinds = e["actor_kind"].astype(str).to_numpy()
    outcomes = e["outcome"].astype(str).to_numpy()
    departments = e["department"].astype(object).to_numpy()
    cases, problems = e["case"].to_numpy(), e["problem"].to_numpy()
    actors = e["actor"].to_numpy()
    for i in range(n):
        step, kind, actor = steps[i], kinds[i], int(actors[i])
        attributes: list[dict] = [{"name": "outcome", "value": outcomes[i]},
                                  {"name": "actor_kind", "value": kind},
                                  {"name": "actor", "value": str(actor)}]
        if deadlines[i]:
            attributes.append({"name": "deadline", "value": deadlines[i]})
        rel = [{"objectId": f"case-{int(cases[i])}", "qualifier": "case"}]
        if problems[i] >= 0:
            rel.append({"objectId": f"problem-{int(problems[i])}", "qualifier": "problem"})
        dept = departments[i]
        if step in _DEPARTMENT_ROLE and isinstance(dept, str) and dept:
            rel.append({"objectId": f"department-{dept}", "qualifier": _DEPARTMENT_ROLE[step]})
        if kind == "inspector" and actor >= 0 and step in _INSPECTOR_ROLE:
            rel.append({"objectId": f"inspector-{actor}", "qualifier": _INSPECTOR_ROLE[step]})
        yield {"id": f"e{i}", "type": step, "time": times[i], "attributes": attributes,
               "relationships": rel}


def _objects(run: RunSource) -> Iterator[dict]:
    e, c = run.events, run.cases.sort_values("case", kind="stable")
    report = run.times(c["t_report"])
    last = e.groupby("case", sort=True)["time_min"].max().reindex(c["case"])
    ended = run.times(last.to_numpy(np.float64))
    for k, row in enumerate(c.itertuples(index=False)):
        at = report[k] or ended[k]
        obj: dict = {"id": f"case-{row.case}", "type": "case", "attributes": [
            {"name": "subclass", "value": str(row.subclass_code), "time": at},
            {"name": "grid_code", "value": str(row.grid_code), "time": at},
            {"name": "channel", "value": _CHANNEL.get(int(row.channel), ""), "time": at},
            {"name": "state", "value": str(row.state), "time": ended[k]}],
            "relationships": []}
        if row.problem >= 0:
            obj["relationships"].append({"objectId": f"problem-{row.problem}",
                                         "qualifier": "concerns"})
        yield obj
    seen = set(int(p) for p in e["problem"].unique() if p >= 0) | set(
        int(p) for p in c["problem"] if p >= 0)
    if run.problems is not None:
        p = run.problems[run.problems["problem"].isin(seen)].sort_values("problem")
        created = run.times(p["created"])
        fate_at = run.times(p["ended"].fillna(p["created"]))
        for k, row in enumerate(p.itertuples(index=False)):
            yield {"id": f"problem-{row.problem}", "type": "problem", "attributes": [
                {"name": "subclass", "value": str(row.subclass_code), "time": created[k]},
                {"name": "grid_code", "value": str(row.grid_code), "time": created[k]},
                {"name": "fate", "value": str(row.fate), "time": fate_at[k]}],
                "relationships": []}
    else:  # no ground truth: the problems are bare objects, so every reference resolves
        for pid in sorted(seen):
            yield {"id": f"problem-{pid}", "type": "problem", "attributes": [],
                   "relationships": []}
    origin = run.times(np.zeros(1))[0]
    for name in sorted({d for d in e["department"].dropna().astype(str).unique() if d}):
        yield {"id": f"department-{name}", "type": "department",
               "attributes": [{"name": "name", "value": name, "time": origin}],
               "relationships": []}
    beats = e.loc[(e["actor_kind"].astype(str) == "inspector") & (e["actor"] >= 0), "actor"]
    for beat in sorted(int(b) for b in beats.unique()):
        yield {"id": f"inspector-{beat}", "type": "inspector",
               "attributes": [{"name": "beat", "value": str(beat), "time": origin}],
               "relationships": []}


def ocel_document(run: RunSource) -> dict:
    """The whole OCEL 2.0 document in memory (small runs and tests; files stream)."""
    steps = sorted(set(run.events["step"].astype(str)))
    return {"objectTypes": [{"name": k, "attributes": v} for k, v in OBJECT_TYPES.items()],
            "eventTypes": [{"name": s, "attributes": EVENT_ATTRIBUTES} for s in steps],
            "objects": list(_objects(run)), "events": list(_events(run))}


def write_ocel(run: RunSource, path: str | Path, *,
               progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the OCEL 2.0 JSON file, one object or event a line; returns the path.
    ``progress(done, total)`` is called every 20,000 events and at the end."""
    steps = sorted(set(run.events["step"].astype(str)))
    types = {"objectTypes": [{"name": k, "attributes": v} for k, v in OBJECT_TYPES.items()],
             "eventTypes": [{"name": s, "attributes": EVENT_ATTRIBUTES} for s in steps]}

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("{\n")
            for key, value in types.items():
                f.write(f"{json.dumps(key)}: {json.dumps(value)},\n")
            for key, items in (("objects", _objects(run)), ("events", _events(run))):
                f.write(f'"{key}": [\n')
                first = True
                for k, item in enumerate(items):
                    f.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False,
                                                                  separators=(",", ":")))
                    first = False
                    if progress is not None and key == "events" and k % 20_000 == 0:
                        progress(k, len(run.events))
                if progress is not None and key == "events":
                    progress(len(run.events), len(run.events))
                f.write("\n]" + (",\n" if key == "objects" else "\n"))
            f.write("}\n")
    return atomic_write(Path(path), write)
