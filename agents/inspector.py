"""Inspectors (监督员): patrol their beat, spot problems, fix trivial ones, verify and check.

A beat's inspectors work consecutive shifts. At each shift start the beat gets a patrol plan
from the `patrol_route` decision point: a cyclic route with a dwell per grid, so the k-th
visit to any grid is known in closed form and nothing ticks per minute. A problem in the beat
is noticed at each visit with the subclass's detection probability, so the visit that finds
it is a geometric draw. Verification and check tasks queue for the beat's inspector on duty
(a one-server `StaffPool`), and they, reports (``report_minutes``) and on-the-spot fixes
(``fix_minutes``) take the inspector off the patrol: each shift's round of a beat is
stretched by the share of the last shift the beat's inspector spent off it, so a beat with
more tasks and finds walks its grids less often (`InspectorCorps.off_patrol`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.data.citymap import make_beats, route_travel_minutes
from sim.data.distributions import make_sampler
from sim.data.scenario import clock_minutes
from sim.engine.calendar import DailyWindow
from sim.engine.casebook import Case
from sim.engine.clock import Pending
from sim.engine.pools import StaffPool
from sim.engine.problems import gather

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Beat", "InspectorCorps"]

INF = math.inf
NAN = math.nan
# A problem waiting for the next shift's rescan, with what the rescan reads that never
# changes (carried along: reading old problems' list entries again costs cache misses).
WAITING = np.dtype([("pid", np.int64), ("beat", np.int64), ("grid", np.int64),
                    ("sub", np.int64), ("since", np.float64), ("vanish", np.float64)])


class Beat:
    """A beat (监督网格): its grids and the current patrol plan. The problems its patrols
    have not seen yet are kept by the corps (`InspectorCorps.waiting`)."""

    __slots__ = ("index", "grids", "t0", "t1", "cycle", "offset", "tasks")

    def __init__(self, index: int, grids: np.ndarray, tasks: StaffPool | None) -> None:
        self.index = index
        self.grids = grids
        self.t0 = self.t1 = -INF
        self.cycle = 1.0
        self.offset = np.zeros(0)  # per grid of the city: visit offset in the cycle
        self.tasks = tasks

    def first_detection(self, grid: int, since: float, p: float, u: float) -> float:
        """Time of the visit that notices a problem present from ``since`` (INF if none this
        shift). ``u`` is a uniform draw; the visit count is geometric with parameter ``p``."""
        if p <= 0.0 or since >= self.t1:
            return INF
        first = self.t0 + float(self.offset[grid])
        j0 = 0 if since <= first else math.ceil((since - first) / self.cycle)
        k = 0 if p >= 1.0 else int(math.log1p(-u) / math.log1p(-p))  # failures before success
        t = first + (j0 + k) * self.cycle
        return t if t < self.t1 else INF


class InspectorCorps:
    """All beats and inspectors of the city: shifts, detection, on-the-spot fixes, tasks.

    A beat's inspectors share its patrol plan and its task pool (one inspector on duty at a
    time, ``spec.shifts`` shifts a day); ``spec.count // spec.shifts`` beats in all.
    """

    def __init__(self, model: CityModel) -> None:
        self.m = model
        spec = model.spec.inspectors
        self.spec = spec
        city = model.city
        n_beats = spec.count // spec.shifts
        self.beats: list[Beat] = []
        self.grid_beat = np.full(city.n_grids, -1, dtype=np.int64)
        # Problems no patrol has seen yet, rescanned at the next shift start in beat order
        # (each beat's in the order they started waiting): those left over by the last
        # rescan, already in that order, then those added since, with their beats.
        self._left = np.zeros(0, dtype=WAITING)
        self._new: list[int] = []
        self._new_beat: list[int] = []
        self.beat_of: list[int] = self.grid_beat.tolist()  # the same, one grid at a time
        self._tasks: list[StaffPool] = []
        # `task_deadline`'s answer over a stretch of time [from, until): the next opening of
        # the duty window (None: open, the answer is the time itself)
        self._known_from = self._known_until = 0.0
        self._opening: float | None = None
        self.active = False
        """Whether the city has inspectors (beats) at all: an attribute, read once a case."""
        if n_beats == 0:
            return
        start = clock_minutes(spec.first_shift_start)
        span = int(spec.shifts * spec.shift_hours * 60)
        end = start + min(span, 1440)
        self.window = DailyWindow(start % 1440, end if end <= 1440 else end - 1440,
                                  model.calendar, spec.days) if span < 1440 else \
            DailyWindow(0, 1440, model.calendar, spec.days)
        for b, grids in enumerate(make_beats(city, n_beats)):
            pool = StaffPool(model.env, f"beat-{b}", 1, self.window)
            self.beats.append(Beat(b, np.asarray(grids), pool))
            self._tasks.append(pool)
            self.grid_beat[grids] = b
        self.beat_of = self.grid_beat.tolist()
        self.active = bool(self.beats)
        self.patrol_rng = model.streams["patrol"]
        self._plan_key = b""
        self._cycle_arr = np.zeros(0)
        self._offset_arr = np.zeros(0)
        self._route = self._legs = self._starts = self._sizes = np.zeros(0, dtype=np.int64)
        self._visits: np.ndarray | None = None  # visits per grid a cycle, when not all 1
        self.task_minutes = make_sampler(spec.task_minutes, model.streams["inspector-tasks"])
        # minutes off patrol per beat since the last shift start: tasks, reports, fixes
        self._off = [0.0] * n_beats
        self.report_minutes = None if spec.report_minutes is None else make_sampler(
            spec.report_minutes, model.streams["inspector-reports"])
        self.fix_minutes = None if spec.fix_minutes is None else make_sampler(
            spec.fix_minutes, model.streams["inspector-fixes"])
        self.u_detect = model.streams["detection"]
        self.shift_starts = [start + s * spec.shift_hours * 60 for s in range(spec.shifts)]
        self.shift_len = spec.shift_hours * 60
        # `next_shift_starts` reads a table of every shift start of days 0 ..
        # ``_table_days - 1``, made once (and again, longer, if asked beyond it), when each
        # day's starts fall within that day
        self._starts_in_day = all(0 <= s0 < 1440 for s0 in self.shift_starts)
        self._table_days = 0
        self._table = np.zeros(0)

    # -- shifts ------------------------------------------------------------------------------
    def start(self) -> None:
        """Schedule every shift start over the horizon (one event per shift, all beats; each
        queued when the one before starts)."""
        if not self.beats:
            return
        cal = self.m.calendar
        starts = [day * 1440 + s0 for day in range(-1, self.m.days + 1)
                  if self.spec.days != "workdays" or cal.is_workday(day)
                  for s0 in self.shift_starts]
        starts = [t for t in starts if t + self.shift_len > 0 and t < self.m.horizon]
        self.m.env.call_chain([max(t, 0.0) for t in starts], self._shift_start, starts)

    def _shift_start(self, t0: float) -> None:
        """New patrol plans for every beat: routes from the decision point, dwell per grid
        drawn afresh, visit offsets and cycle lengths computed for all beats at once."""
        m = self.m
        city = m.city
        proactive = m.proactive
        patrol_route = m.decide.patrol_route
        if proactive is None and m.decide.route_is_builtin and self._plan_key:
            key = self._plan_key  # the handbook's route depends on the beat alone: unchanged
        else:
            if proactive is None:
                routes = [patrol_route(b.index, b.grids, city.row, city.col)
                          for b in self.beats]
            else:  # steered toward complaints (agents/proactive.py)
                w = proactive.grid_weights(t0)
                routes = [patrol_route(b.index, b.grids, city.row, city.col, w[b.grids],
                                       proactive.hot_share)
                          for b in self.beats]
            key = b"".join(r.tobytes() for r in routes)
        if key != self._plan_key:  # routes changed (or first shift): redo the fixed parts
            side, speed = m.spec.city.grid_side_m, m.spec.city.walk_speed_kmh
            self._plan_key = key
            self._route = np.concatenate(routes)
            self._legs = np.concatenate([route_travel_minutes(city, r, side, speed)
                                         for r in routes])
            sizes = np.array([len(r) for r in routes])
            self._starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            self._sizes = sizes
            visits = np.bincount(self._route, minlength=city.n_grids)
            in_beat = self.grid_beat >= 0
            self._visits = None if np.array_equal(visits[in_beat], np.ones(in_beat.sum(),
                                                  dtype=visits.dtype)) else visits
        dwell = self.spec.minutes_per_grid.draw(self.patrol_rng, len(self._route))
        step = dwell + self._legs
        before = np.cumsum(step) - step                       # time before each position
        beat_base = np.repeat(before[self._starts], self._sizes)
        offsets = np.empty(city.n_grids)
        if self._visits is None:
            offsets[self._route] = before - beat_base + dwell  # noticed at the end of the dwell
        else:  # some grids walked twice (or not at all) a cycle: time of the first visit
            offsets.fill(INF)
            seen, first = np.unique(self._route, return_index=True)
            offsets[seen] = (before - beat_base + dwell)[first]
        self._cycle_arr = np.maximum(np.add.reduceat(step, self._starts), 1.0)
        self._offset_arr = offsets
        self._stretch()
        t1 = t0 + self.shift_len
        for beat, cycle in zip(self.beats, self._cycle_arr.tolist(), strict=True):
            beat.t0, beat.t1, beat.cycle, beat.offset = t0, t1, cycle, self._offset_arr
        self._rescan_all(t0)

    def _stretch(self) -> None:
        """Slow each beat's new round by the time its inspector spent off patrol since the
        last shift start (tasks, reports, fixes), as a share of a shift: with a share ``s``
        of the shift gone, the round takes ``1 / (1 - s)`` as long (a beat whose tasks fill
        the shift hardly patrols)."""
        off = np.asarray(self._off)
        self._off = [0.0] * len(self.beats)
        if not off.any():
            return
        slow = 1.0 / np.maximum(1.0 - off / self.shift_len, 1e-3)  # 1e-3: no division by 0
        self._cycle_arr = self._cycle_arr * slow
        in_beat = self.grid_beat >= 0
        self._offset_arr[in_beat] *= slow[self.grid_beat[in_beat]]

    def off_patrol(self, grid: int, minutes: float) -> None:
        """The inspector of ``grid``'s beat spends ``minutes`` off the patrol (a task, a
        report, a fix); the beat's next round is stretched by it (`_stretch`)."""
        beat = self.beat_of[grid]
        if beat >= 0:
            self._off[beat] += minutes

    def reported(self, grid: int) -> None:
        """An inspector photographed, classified and located a problem in ``grid``."""
        if self.report_minutes is not None:
            self.off_patrol(grid, self.report_minutes())

    def fixed(self, grid: int) -> None:
        """An inspector fixed a trivial problem in ``grid`` on the spot."""
        if self.fix_minutes is not None:
            self.off_patrol(grid, self.fix_minutes())

    def _rescan_all(self, t0: float) -> None:
        """Give every problem no beat has seen yet a chance in the new shift (vectorised over
        all beats; problems gone or already in a case drop out)."""
        m = self.m
        truth, disc = m.truth, m.discovery
        rows = self._left
        if self._new:
            ids = self._new
            new = np.empty(len(ids), dtype=WAITING)
            new["pid"] = ids
            new["beat"] = self._new_beat
            # a problem may have ended and been let go of since (`GroundTruth.retire`) when
            # shifts are far apart: it reads as gone (-1, NaN) and drops out below
            new["grid"] = gather(truth.grid, ids, np.int64, -1)
            new["sub"] = gather(truth.subclass, ids, np.int64, -1)
            new["since"] = gather(truth.created, ids, np.float64, NAN)
            new["vanish"] = gather(disc.t_vanish, ids, np.float64, NAN)
            rows = np.concatenate((rows, new))
            rows = rows[np.argsort(rows["beat"], kind="stable")]  # beat by beat, in order
            self._new, self._new_beat = [], []
        if not rows.size:
            return
        ids = rows["pid"].tolist()
        live = (gather(truth.fate, ids, np.int64, -1) == 0) & \
            (gather(truth.case, ids, np.int64, -1) < 0)
        if not live.all():
            rows = rows[live]
        if not rows.size:
            self._left = rows
            return
        t = self.detection_times(rows["grid"], rows["since"], disc.detect_arr[rows["sub"]])
        found = t < INF
        seen = rows[found]
        disc.set_detect_many(seen["pid"], t[found], seen["vanish"])
        self._left = rows = rows[~found]
        disc.arm_before_many(rows["pid"], rows["vanish"],
                             float(self.next_shift_starts(np.array([t0]))[0]))

    def detection_times(self, grids: np.ndarray, since: np.ndarray, p: np.ndarray,
                        started: bool = False) -> np.ndarray:
        """Vectorised `Beat.first_detection` under the current shift's plans (INF where the
        problem is not in a beat, not there before the shift ends, or not noticed by then).
        With ``started``, only problems appearing after the shift began count (new ones;
        older ones wait for the rescan at the next shift start)."""
        n = len(grids)
        if n == 0 or not self.beats:
            return np.full(n, INF)
        beat = self.grid_beat[grids]
        t0, t1 = self.beats[0].t0, self.beats[0].t1   # all beats share the shift
        live = (beat >= 0) & (since < t1) & (p > 0)
        if started:
            live &= since >= t0
        u = self.u_detect.random(n)
        out = np.full(n, INF)
        if not live.any() or not self._cycle_arr.size:
            return out
        g, s, pp, uu = grids[live], since[live], p[live], u[live]
        cyc = self._cycle_arr[beat[live]]
        if self._visits is not None:  # walked v times a cycle: a visit every cycle / v from
            cyc = cyc / np.maximum(self._visits[g], 1)  # the first (evenly spread: approximate)
        first = t0 + self._offset_arr[g]
        j0 = np.where(s <= first, 0.0, np.ceil((s - first) / cyc))
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.log1p(-np.minimum(pp, 0.999999))
            k = np.where(pp >= 1.0, 0.0, np.floor(np.log1p(-uu) / q))
        t = first + (j0 + k) * cyc
        out[live] = np.where(t < t1, t, INF)
        return out

    def watch_many(self, pids: np.ndarray, grids: np.ndarray, since: np.ndarray,
                   p: np.ndarray) -> np.ndarray:
        """Detection times of new (or newly unseen) problems in this shift; those not
        noticed before it ends wait in their beat's list for the next shift's rescan."""
        t = self.detection_times(grids, since, p, started=True)
        beat = self.grid_beat[grids]
        wait = (t == INF) & (beat >= 0)
        self._new.extend(pids[wait].tolist())
        self._new_beat.extend(beat[wait].tolist())
        return t

    def waiting(self) -> list[list[int]]:
        """The problems each beat's patrols have not seen yet, in the order the next shift
        start rescans them."""
        out: list[list[int]] = [[] for _ in self.beats]
        for pid, b in zip(self._left["pid"].tolist() + self._new,
                          self._left["beat"].tolist() + self._new_beat, strict=True):
            out[b].append(pid)
        return out

    def next_shift_starts(self, t: np.ndarray) -> np.ndarray:
        """The first shift start strictly after each time: when a problem no patrol has
        seen yet is rescanned (INF: no shift within two weeks)."""
        if t.size == 0:
            return t
        lo = int(t.min() // 1440)
        hi = int(t.max() // 1440) + 16
        if lo >= 0 and self._starts_in_day:  # from the table of the days 0 .. hi - 1
            if hi > self._table_days:
                self._table_days = max(hi, 2 * self._table_days, self.m.days + 16)
                self._table = self._shift_starts_of(0, self._table_days)
            table = self._table
            out = table[np.searchsorted(table, t, side="right")]
            out[out >= hi * 1440] = INF  # not within two weeks
            return out
        starts = self._shift_starts_of(lo, hi)
        return starts[np.searchsorted(starts, t, side="right")]

    def _shift_starts_of(self, lo: int, hi: int) -> np.ndarray:
        """The shift starts of days ``lo .. hi - 1`` in order, then INF."""
        cal = self.m.calendar
        return np.array([d * 1440 + s0 for d in range(lo, hi)
                         if self.spec.days == "all" or cal.is_workday(d)
                         for s0 in self.shift_starts] + [INF])

    # -- tasks -------------------------------------------------------------------------------
    def task_deadline(self, limit_minutes: float) -> float:
        """When a verify or check task sent now is due: ``limit_minutes`` from the next
        opening of the inspectors' duty window (now, when it is open). That opening is
        worked out once for each stretch the window is open or shut, not for every task
        (`tests/test_fast_paths.py` pins it against `DailyWindow.next_open`)."""
        now = self.m.env._now  # the attribute, not the property (a call per task sent)
        if not self._known_from <= now < self._known_until:  # a new stretch: open or shut
            window = self.window
            if window.is_open(now):  # open until it closes (never, round the clock)
                self._known_from, self._known_until = now, window.closes_at(now)
                self._opening = None
            else:  # shut until it opens, which every task sent till then waits for
                opening = window.next_open(now)
                self._known_from, self._known_until = now, opening
                self._opening = opening
        opening = self._opening
        return (now if opening is None else opening) + limit_minutes

    def task(self, case: Case) -> Pending:
        """``yield corps.task(case)``: a verify or check task on site, for the inspector on
        duty in the beat of the case's grid (its life resumes when the task is done)."""
        beat = self.beat_of[case.grid]
        minutes = self.task_minutes()
        self._off[beat] += minutes  # taken from the patrol (`_stretch`)
        return self._tasks[beat].job(case, minutes)
