"""A run that lets ended problems go (`GroundTruth(retiring=True)`, what `gridloop run` does
for long and large runs) tells the same story as one that keeps them: the same event log,
byte for byte, and the same problem rows. Here with problems let go a day after they end,
every day, so that what a long run does once a week happens hundreds of times."""

from __future__ import annotations

import numpy as np
import pytest

from sim.data.scenario import load_scenario
from sim.model import CityModel


def _run(name: str, days: int, sets: list[str], retiring: bool,
         after_days: int = 1) -> tuple[bytes, np.ndarray, CityModel]:
    """The event log's bytes and every problem row (let go of or held at the end, by id)."""
    left: list[np.ndarray] = []
    model: CityModel

    def new_day(day: int) -> None:  # as `sim.run.record_run` does, a day after they ended
        if retiring:
            rows = model.truth.retire(before=(day - after_days) * 1440.0)
            if len(rows):
                model.discovery.forget(rows["problem"].tolist())
                left.append(rows)
    model = CityModel(load_scenario(name, sets, days=days, seed=7), progress=new_day,
                      retiring=retiring)
    model.run()
    rows = np.concatenate([*left, model.problems()])
    return model.log.to_array().tobytes(), rows[np.argsort(rows["problem"])], model


@pytest.mark.parametrize("name, days, sets", [
    # dongcheng: cases suspended for weeks, misread reports filed beside the right one (a
    # case can name a problem another case tracks), the hotline's callers and redials
    ("dongcheng", 8, ["problems.rate_scale=0.5"]),
    # small-town with the whistle: cases sent back, summoned, and patrols on workdays only
    ("small-town", 30, ["whistle.enabled=true", "whistle.returns=0",
                        "whistle.overdue_hours=4", "inspectors.days=workdays"]),
])
def test_letting_problems_go_changes_nothing(name: str, days: int, sets: list[str]) -> None:
    kept, kept_rows, _ = _run(name, days, sets, retiring=False)
    let_go, rows, model = _run(name, days, sets, retiring=True)
    assert let_go == kept
    assert rows.tobytes() == kept_rows.tobytes()
    assert len(model.truth.fate) < 0.6 * len(rows)  # most had left by the end


def test_patrols_days_apart_find_problems_let_go_of_gone() -> None:
    """Shifts on workdays only, and problems let go of the day after they end: over a long
    weekend or holiday a problem waiting for the next shift's rescan can end and leave
    before that shift starts; the rescan reads it as gone (it used to be a KeyError)."""
    sets = ["inspectors.days=workdays"]
    kept, _, _ = _run("small-town", 20, sets, retiring=False)
    let_go, _, model = _run("small-town", 20, sets, retiring=True, after_days=0)
    assert let_go == kept


def test_the_whistle_forgets_the_returns_of_closed_cases() -> None:
    """`Whistle.returns` holds the cases sent back that are still open (and at most as many
    closed ones since its last clean-up), not every case sent back over the horizon."""
    from sim.engine.eventlog import Step

    _, _, model = _run("small-town", 120, ["whistle.enabled=true", "whistle.returns=5"],
                       retiring=False)
    w = model.whistle
    assert w is not None
    ev = model.log.to_array()
    sent_back = len(np.unique(ev["case"][ev["step"] == Step.RETURN]))
    live = sum(1 for cid in w.returns if model.cases.live(cid) is not None)
    assert sent_back > 4 * 64  # many more than the first clean-up's size
    assert len(w.returns) <= max(64, 2 * live) < sent_back / 2


def test_proactive_counts_hold_the_window_not_the_horizon() -> None:
    """Proactive governance counts complaints a day at a time, in rows reused day after day:
    as many as its lag and window can read (it held one row per day of the horizon: 67 MB
    for ten years of dongcheng), and every day's weights are still the complaints of exactly
    its window's days."""
    sets = ["proactive.enabled=true", "proactive.window_days=5", "proactive.lag_days=2"]
    model = CityModel(load_scenario("small-town", sets, days=30, seed=7))
    pro = model.proactive
    assert pro is not None
    tally: dict[int, np.ndarray] = {}
    weights: dict[int, np.ndarray] = {}
    count, steer = pro.complaint, pro.grid_weights

    def complaint(pid: int, now: float) -> None:
        day = tally.setdefault(int(now // 1440), np.zeros(model.city.n_grids))
        day[model.truth.grid[pid]] += 1.0
        count(pid, now)

    def grid_weights(t: float) -> np.ndarray:
        weights[int(t // 1440)] = w = steer(t).copy()
        return w

    model.discovery.complaint_hook = complaint
    pro.grid_weights = grid_weights  # type: ignore[method-assign]
    model.run()
    assert pro.by_grid.shape[0] == 2 + 5 + 1
    assert len(weights) > 20 and sum(w.sum() for w in weights.values()) > 0
    for day, w in weights.items():
        lo, hi = pro.window(day)
        expected = sum((tally.get(d, 0.0) for d in range(lo, hi)), np.zeros_like(w))
        assert np.array_equal(w, expected), day


def test_a_retiring_ground_truth_keys_every_column_with_one_id_object() -> None:
    """The dict columns of a run that lets problems go share one key object per problem
    (`GroundTruth.new_ids`): 16 ints a problem were made, hashed and freed before."""
    model = CityModel(load_scenario("small-town", [], days=3, seed=7), retiring=True)
    model.run()
    truth, disc = model.truth, model.discovery
    columns = [truth.grid, truth.fate, truth.refs, disc.t_citizen, disc.armed]
    first = [next(iter(c)) for c in columns]
    assert len(truth.grid) > 100 and all(k is first[0] for k in first)
    last = [next(reversed(c)) for c in columns]
    assert all(k is last[0] for k in last) and last[0] is truth.new_ids[-1]


def test_retire_lets_go_what_ended_before_in_order_and_holds_what_a_case_names() -> None:
    """`GroundTruth.retire` by hand: a problem that ended exactly at ``before`` stays; one a
    case still names is held back and leaves, first, once no case names it; the rows are
    those the columns held, in the order the problems left."""
    from sim.engine.problems import Fate, GroundTruth

    truth = GroundTruth(retiring=True)
    truth.add_many(np.arange(6), np.arange(6) % 2, np.arange(6) * 10.0)
    for pid, t in ((3, 100.0), (1, 150.0), (4, 150.0), (0, 200.0), (5, 260.0)):
        truth.end(pid, t, Fate.FIXED if pid % 2 else Fate.VANISHED)
    truth.refs[1] = 1  # a case in the loop still names problem 1

    rows = truth.retire(before=200.0)
    assert rows["problem"].tolist() == [3, 4] == truth.retired
    assert rows["ended"].tolist() == [100.0, 150.0] and rows["grid"].tolist() == [3, 4]
    assert rows["fate"].tolist() == [Fate.FIXED, Fate.VANISHED]
    assert sorted(truth.fate) == [0, 1, 2, 5] and 0 in truth.case  # 0 ended at 200.0: stays

    assert len(truth.retire(before=200.0)) == 0  # 1 is still named
    truth.refs[1] = 0
    rows = truth.retire(before=300.0)
    assert rows["problem"].tolist() == [1, 0, 5]  # the held one first, then in ending order
    assert rows["created"].tolist() == [10.0, 0.0, 50.0]
    assert sorted(truth.fate) == [2] == sorted(truth.refs) and not truth.is_open(3)
