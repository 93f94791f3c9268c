"""Grading: table-driven rules per card, and whole sessions graded against the reference.

The handbook played through a session must score at the top (it is the reference); a
dispatcher who sends everything to one department must lose points on decisions that name
the handbook row broken, and on outcome sentences against the reference run. Grading is a
pure function of the record: the same record grades the same, and a new rubric regrades.
"""

from __future__ import annotations

import pytest

from sim.data.taxonomy import load_handbook
from training.baseline import play_handbook
from training.cards import Decision
from training.cohort import GRADEBOOK_COLUMNS, cohort_report, write_gradebook_csv
from training.exercises import Exercise, Rubric
from training.grading import grade
from training.outcome import measure, reference_events, reference_measures
from training.rules import judge
from training.session import CardFacts, Session

HB = load_handbook("scenarios/handbook/standard.yaml")
DEPTS = ["sanitation", "enforcement", "subdistrict", "traffic", "greening", "municipal",
         "water", "power", "gas", "telecom", "housing"]
GARBAGE, MAIN = HB.index("E01-01"), HB.index("E04-02")


def facts(kind: str, **kw: object) -> CardFacts:
    base = dict(card_id=f"{kind}-1", kind=kind, case_id=1, received_at=600.0, problem=3,
                problem_open=True, true_subclass=GARBAGE, claimed_subclass=GARBAGE, channel=2,
                verified=None, duplicate_of=-1, open_case=-1, check_passed=None,
                returned_from=-1, department=0, can_verify=True, evidence=False, inject=None)
    base.update(kw)
    return CardFacts(**base)  # type: ignore[arg-type]


def decision(action: str, **fields: object) -> Decision:
    return Decision(seq=0, card_id="c", action=action, fields=fields, sim_time=610.0)


@pytest.mark.parametrize(("f", "d", "severities", "rule_part"), [
    (facts("close", check_passed=False), decision("close"), ["critical"], "Closing criterion"),
    (facts("close", check_passed=True), decision("close"), [], ""),
    (facts("close", check_passed=True), decision("rework"), ["minor"], "Closing criterion"),
    (facts("file", verified=False), decision("file", subclass="E01-01"), ["major"],
     "Filing criterion of E01-01"),
    (facts("file", verified=True), decision("void"), ["major"], "Filing criterion"),
    (facts("file", verified=True, duplicate_of=7, open_case=7),
     decision("file", subclass="E01-01"), ["minor"], "Merge duplicates"),
    (facts("file", verified=True, duplicate_of=7),  # the platform cannot see it: no fault
     decision("file", subclass="E01-01"), [], ""),
    (facts("file", verified=True), decision("merge", into=9), ["major"], "Merge duplicates only"),
    (facts("verify"), decision("void"), ["major"], "Verify public reports"),
    (facts("verify", problem=-1), decision("void"), ["minor"], "Verify public reports"),
    (facts("verify", open_case=4, duplicate_of=4), decision("merge", into=4), [], ""),
    (facts("check"), decision("close"), ["major"], "Supervision checks"),
    (facts("dispatch"), decision("dispatch", department="sanitation", urgency="normal"), [], ""),
    (facts("dispatch"), decision("dispatch", department="traffic", urgency="normal"),
     ["major"], "Handbook E01-01 Exposed garbage: department sanitation"),
    (facts("dispatch", true_subclass=MAIN, claimed_subclass=MAIN),
     decision("dispatch", department="sanitation", urgency="normal"),
     ["critical", "major", "major"], "Handbook E04-02 Burst water main: department water"),
    (facts("dispatch", true_subclass=MAIN, claimed_subclass=GARBAGE),  # no evidence: claim
     decision("dispatch", department="sanitation", urgency="normal"), [], ""),
    (facts("dispatch", true_subclass=MAIN, claimed_subclass=GARBAGE, evidence=True),
     decision("dispatch", department="water", subclass="E04-02", urgency="urgent",
              whistle=True), [], ""),
    (facts("return", returned_from=3), decision("dispatch", department="traffic",
                                                 urgency="normal"),
     ["major", "major"], "ping-pong"),
    (facts("extension", true_subclass=MAIN, claimed_subclass=MAIN), decision("grant"),
     ["major"], "urgent"),
    (facts("extension"), decision("grant"), [], ""),
])
def test_judge_names_the_rule_broken(f: CardFacts, d: Decision, severities: list[str],
                                     rule_part: str) -> None:
    _, devs = judge(f, d, HB, Rubric(), DEPTS)
    assert sorted(x.severity for x in devs) == sorted(severities)
    if rule_part:
        assert any(rule_part in x.rule for x in devs)


def exercise(role: str) -> Exercise:
    return Exercise(id="short", title="Short", level="beginner", role=role, briefing="b",
                    seed=8, window={"start": "08:30", "hours": 1.5},
                    injects=[{"at": 5, "kind": "burst", "subclass": "E01-01", "count": 4},
                             {"at": 20, "kind": "emergency", "subclass": "E04-02",
                              "description": "Water gushing"}])


def play_badly(s: Session) -> Session:
    """Every case to sanitation, nothing urgent; extensions refused."""
    while s.advance_to_next_card():
        for c in s.pending():
            if c.kind == "extension":
                s.decide(c.id, "refuse")
            else:
                s.decide(c.id, "dispatch", department="sanitation", urgency="normal")
    return s


@pytest.fixture(scope="module")
def graded() -> dict[str, object]:
    ex = exercise("dispatcher")
    good = play_handbook(Session(ex, trainee="ada"))
    bad = play_badly(Session(ex, trainee="bob"))
    return {"ex": ex, "good": good, "bad": bad, "g_good": grade(good.record, ex),
            "g_bad": grade(bad.record, ex)}


def test_the_handbook_scores_at_the_top_and_matches_the_reference(graded: dict) -> None:
    g = graded["g_good"]
    assert g.grade == "A" and g.score >= 95
    assert g.n_cards == len(graded["good"].decisions) > 5
    for m in g.outcome.metrics:
        assert m.trainee == pytest.approx(m.reference), m.sentence
    good = graded["good"]   # played card by card, event by event: replays byte for byte
    assert Session.replay(good.record, graded["ex"]).events().tobytes() == \
        good.events().tobytes()


def test_a_careless_dispatcher_loses_points_with_reasons(graded: dict) -> None:
    g, good = graded["g_bad"], graded["g_good"]
    assert g.score < good.score - 15 and g.accuracy < good.accuracy
    rules = {d.rule for fb in g.decisions for d in fb.deviations}
    assert "Handbook E04-02 Burst water main: department water" in rules
    assert any(d.severity == "critical" for fb in g.decisions for d in fb.deviations)
    returns = next(m for m in g.outcome.metrics if m.name == "returns")
    assert returns.trainee > returns.reference
    assert f"{int(returns.trainee - returns.reference)} more returns than the reference" in \
        returns.sentence


def test_grading_is_pure_and_a_new_rubric_regrades(graded: dict) -> None:
    ex, rec = graded["ex"], graded["bad"].record
    again = grade(rec, ex)
    assert again == graded["g_bad"]
    only_accuracy = Rubric(weights={"accuracy": 1, "timeliness": 0, "outcome": 0})
    g = grade(rec, ex, only_accuracy)
    assert g.score == pytest.approx(g.accuracy, abs=0.05) and g.score != again.score


def test_a_live_session_graded_as_it_stands_grades_as_its_replay(graded: dict) -> None:
    ex, bad, good = graded["ex"], graded["bad"], graded["good"]
    assert grade(bad.record, ex, played=bad) == graded["g_bad"]
    # a session that is not the record's (other decisions) is not taken for it: replayed
    assert grade(bad.record, ex, played=good) == graded["g_bad"]
    s = Session(ex)
    s.advance(30)
    early = s.record
    s.advance(30)              # its clock moved on since the record was taken: replayed
    assert grade(early, ex, played=s) == grade(early, ex)
    assert grade(early, ex, played=s).outcome.at == early.now


def test_the_shared_reference_run_measures_as_a_fresh_one(graded: dict) -> None:
    ex, rec = graded["ex"], graded["bad"].record
    n_grids = graded["bad"].city.n_grids
    fresh = measure(reference_events(ex, rec.seed, rec.now), rec.now, n_grids)
    assert reference_measures(ex, rec.seed, rec.now, n_grids) == fresh
    other = measure(reference_events(ex, rec.seed + 1, rec.now), rec.now, n_grids)
    assert reference_measures(ex, rec.seed + 1, rec.now, n_grids) == other != fresh


def test_cards_left_waiting_past_their_limit_are_missed() -> None:
    ex = exercise("dispatcher")
    s = Session(ex)
    s.advance(90)
    g = grade(s.record, ex)
    assert g.n_missed > 0 and g.accuracy < 100 and g.timeliness < 100
    assert all(fb.action is None for fb in g.decisions)


def test_cohort_report_and_gradebook(graded: dict, tmp_path) -> None:
    report = cohort_report([("ada", graded["g_good"]), ("bob", graded["g_bad"])])
    assert [r.trainee for r in report.rows] == ["ada", "bob"]
    assert report.grades["A"] == 1 and sum(report.grades.values()) == 2
    assert sum(n for _, n in report.histogram) == 2
    top = report.mistakes[0]
    assert top.trainees == 1 and top.count >= 1
    assert report.rows[1].top_mistake and report.rows[0].top_mistake == ""
    path = write_gradebook_csv(report, tmp_path / "book.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",") == list(GRADEBOOK_COLUMNS)
    assert lines[1].startswith("ada,short,8,") and len(lines) == 3

