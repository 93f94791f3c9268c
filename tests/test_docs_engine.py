"""The engine's documents say what the code does.

docs/event-log.md lists the steps, actor kinds and outcomes a log may hold, and the legal
transitions: they must be exactly the enums and `TRANSITIONS`. docs/case-life.md walks one
case through the code with file:line links: each must point at a line of an existing file
that names the linked symbol. docs/architecture.md's decision-point table must list every
decision point by its one name.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.engine.decisions import DESK_POINTS, FIELD_POINTS
from sim.engine.eventlog import TRANSITIONS, ActorKind, Outcome, Step

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LINK = re.compile(r"\[`([^`]+)`\]\((\.\./[^)#\s]+)#L(\d+)\)")


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([a-z_]+)`", cell))


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after ``heading``."""
    section = text.split(heading, 1)[1]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not set(cells[0]) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # without the header


def test_event_log_doc_lists_exactly_the_steps_actors_and_outcomes() -> None:
    text = (DOCS / "event-log.md").read_text(encoding="utf-8")
    schema = {row[0]: row[2] for row in _table_rows(text, "## events.parquet")}
    assert _names(schema["`actor_kind`"].split("one of", 1)[1].split(".")[0]) == \
        {a.name.lower() for a in ActorKind}
    assert _names(schema["`outcome`"].split("one of", 1)[1].split("(")[0]) == \
        {o.name.lower() for o in Outcome}
    steps = [row[0] for row in _table_rows(text, "### Steps")]
    assert [s.strip("`") for s in steps] == [s.name.lower() for s in Step]


def test_event_log_doc_transitions_are_the_state_machine() -> None:
    text = (DOCS / "event-log.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for frm, to in _table_rows(text, "### Legal transitions"):
        for step in _names(frm):
            documented[step] = set() if "terminal" in to else _names(to.split("(")[0])
    assert documented == {s.name.lower(): {t.name.lower() for t in after}
                          for s, after in TRANSITIONS.items()}


def test_case_life_links_point_at_lines_naming_their_symbol() -> None:
    text = (DOCS / "case-life.md").read_text(encoding="utf-8")
    links = LINK.findall(text)
    assert len(links) >= 25, "the walk-through links the code it describes"
    files = set()
    for symbol, target, line in links:
        path = (DOCS / target).resolve()
        assert path.is_file() and ROOT in path.parents, target
        files.add(path.name)
        lines = path.read_text(encoding="utf-8").splitlines()
        n = int(line)
        assert 1 <= n <= len(lines), f"{target}#L{n}: the file has {len(lines)} lines"
        name = symbol.split("(")[0].split(".")[-1]
        assert name in lines[n - 1], f"{target}#L{n} does not name {symbol!r}: {lines[n - 1]!r}"
    assert {"caselife.py", "casebook.py", "department.py", "decisions.py", "clock.py",
            "pools.py", "discovery.py"} <= files


def test_architecture_lists_every_decision_point_by_its_name() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Decision points", 1)[1].split("\n## ", 1)[0]
    desk, field = section.split("| decision |")[1:3]
    for table, points in ((desk, DESK_POINTS), (field, FIELD_POINTS)):
        rows = [line for line in table.splitlines()[2:] if line.startswith("| `")]
        assert [re.match(r"\| `(\w+)", row).group(1) for row in rows] == list(points)  # type: ignore[union-attr]
