"""How problems come to light: patrols notice them, residents report them, some just go away.

Each open problem has up to three pending times: an inspector's detection, the next public
report (a hazard that grows with the grid's residents), and vanishing by itself. Only the
earliest is scheduled (`armed`); an event is stale when its problem has ended or has been
armed for another time since, so a problem costs about one event per thing that happens to
it. Problems are made in batches: a day's arrivals at midnight, recurrences a few at a
time. A report hands a case to its life (`agents.caselife`); public reports are the seam
where the 12345 hotline plugs in (`Discovery.public_report`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from heapq import heappush
from itertools import compress, repeat
from math import isnan
from typing import TYPE_CHECKING

import numpy as np

from agents.citizens import CitizenReporting
from sim.engine.casebook import Case
from sim.engine.clock import NORMAL, SLOT_MINUTES
from sim.engine.eventlog import Channel
from sim.engine.mistakes import misclassify
from sim.engine.problems import ArrivalModel, Fate, gather, put_new

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Discovery", "CitizenReporting"]  # the public: agents.citizens

INF = math.inf
# The codes as plain ints: a happening reads several, and an enum member costs a class
# attribute lookup each time (the values written are the same numbers).
_VANISHED, _FIXED_ON_SPOT = int(Fate.VANISHED), int(Fate.FIXED_ON_SPOT)
_BY_INSPECTOR, _PUBLIC = int(Channel.INSPECTOR), int(Channel.PUBLIC)


class Discovery:
    """Creates problems and schedules what happens to each next."""

    def __init__(self, model: CityModel) -> None:
        self.m = model
        hb = model.handbook
        scale = model.spec.inspectors.detection_scale
        self.detect_p = [min(1.0, s.detection * scale) for s in hb.subclasses]
        self.on_spot = [s.on_spot if model.spec.inspectors.on_spot_fix else 0.0
                        for s in hb.subclasses]
        self.vanish_dist = [s.vanish_hours for s in hb.subclasses]
        self.vanish_rng = [model.streams[f"vanish-batch:{s.code}"] for s in hb.subclasses]
        self.detect_arr = np.asarray(self.detect_p)
        self.arrivals = ArrivalModel(model.city, hb, model.spec.problems)
        self.citizens = CitizenReporting(model)
        spec = model.spec.problems
        self.recurrence = spec.recurrence
        self.recur_after = model.sampler("recurrence:delay", spec.recurrence_hours, 60.0)
        self.rng_arrivals = model.streams["arrivals"]
        self.rng_misc = model.streams["misclassification"]
        self.u_on_spot = model.uniforms("on-spot")
        self.u_misclass = model.uniforms("misclassification:chance")
        self.u_misread = model.uniforms("misclassification:as")
        self.confusable = model.mistakes.confusable  # what a misreading turns each into
        self.u_false = model.uniforms("false-reports")
        self.u_recur = model.uniforms("recurrence:chance")
        self.padding = model.reaction.trivial_report_rate
        self.u_padding = model.uniforms("padding")
        self.n_sub = len(hb.subclasses)
        self.holidays = model.calendar.holidays  # the scenario's and its holiday source's
        f = model.spec.citizens.false_report_share
        self.false_odds = f / (1.0 - f) if f < 1.0 else 1.0
        # looked up once: read at every happening (none of them is ever replaced)
        self._env = model.env
        self._horizon = model.horizon
        # Repeat reports of a problem in the loop: up to ``window`` ahead, or (None) for its
        # whole life, when those due after tonight wait in `_parked` (with ``armed`` at the
        # horizon, which no happening has) and are armed at the midnight before they are due,
        # so a problem fixed first leaves no stale entry in the clock's queue.
        window = model.spec.citizens.repeat_window_minutes
        self._window = INF if window is None else window
        self._park_from = 1440.0 if window is None else INF
        self._parked: list[int] = []
        self._fate = model.truth.fate
        self._beat_of = model.inspectors.beat_of
        # Happenings due after tonight wait outside the clock's queue, by day, as the entries
        # `Clock.call` would push (their ids taken when armed, so they run in the same
        # order), until their day starts (`_new_day`): the queue holds the near future only
        # (fewer comparisons a push and a pop), and those whose problem has ended by then
        # never enter it. ``_tonight``: from when on a happening waits (none before `start`).
        self._tonight = INF
        self._ahead: dict[int, list[tuple]] = {}
        self._queue, self._eid = model.env._queue, model.env._eid  # type: ignore[attr-defined]
        # per-problem pending times
        self._happen_cb = self._happen
        # (lists, or dicts by problem id when the ground truth lets ended problems go)
        column = model.truth.column
        self.t_detect: list[float] | dict[int, float] = column()
        self.t_citizen: list[float] | dict[int, float] = column()
        self.t_vanish: list[float] | dict[int, float] = column()
        self.armed: list[float] | dict[int, float] = column()
        self.reported: list[bool] | dict[int, bool] = column()  # repeats are merges
        self.complaint_hook: Callable[[int, float], None] | None = None  # agents/proactive.py
        self._recurring: list[tuple[int, int, float, int]] = []  # grid, subclass, time, of
        self._recur_at = INF  # when the next batch of recurrences is made

    # -- arrivals ----------------------------------------------------------------------------
    def start(self) -> None:
        days = range(self.m.days)  # each queued when the day before starts
        self.m.env.call_chain([day * 1440.0 for day in days], self._new_day, days)
        if self.m.env.holds_ahead:  # (a plain clock queues every happening at once)
            self._tonight = 0.0

    def _new_day(self, day: int) -> None:
        if self._tonight < INF:
            self._tonight = (day + 1) * 1440.0
        ahead = self._ahead.pop(day, None)
        if ahead is not None:  # today's happenings enter the queue
            self._enter(ahead)
        if self._park_from < INF:  # whole-life repeats: a new night
            self._unpark(day)
        self._recur()
        cal = self.m.calendar
        date = cal.date_of(day * 1440.0)
        times, subs, grids = self.arrivals.day(
            self.rng_arrivals, day, date.weekday(), date in self.holidays, day * 1440.0)
        self.create_many(grids, subs, times)
        self.m.progress(day)

    def create_many(self, grids: np.ndarray, subs: np.ndarray, times: np.ndarray,
                    recurrence_of: int | np.ndarray = -1) -> int:
        """New problems at ``times`` (now or later), vectorised up to the scheduling of each
        one's first happening: its public report, vanishing, or an inspector noticing it this
        shift (else it waits for the beat's next shift). ``recurrence_of``: the fixed problem
        each comes back from (-1: none). Returns the first new id."""
        n = len(times)
        m = self.m
        first = m.truth.add_many(grids, subs, times, recurrence_of)
        if n == 0:
            return first
        ids = m.truth.ids_from(first)  # (the dict columns' shared keys, when retiring)
        pids = np.arange(first, first + n)
        citizen = self.citizens.first_reports(subs, grids, times)
        put_new(self.t_citizen, ids, citizen.tolist())
        vanish = np.full(n, INF)
        for s in np.unique(subs).tolist():
            dist = self.vanish_dist[s]
            if dist is not None:
                mask = subs == s
                vanish[mask] = times[mask] + dist.draw(self.vanish_rng[s], int(mask.sum()), 60.0)
        put_new(self.t_vanish, ids, vanish.tolist())
        put_new(self.armed, ids, [INF] * n)
        put_new(self.reported, ids, [False] * n)
        corps = m.inspectors
        keys = ids if type(ids) is list else pids.tolist()  # the keys' own objects
        if not corps.active:
            put_new(self.t_detect, ids, [INF] * n)
            self._arm_many(keys)
            return first
        detect = corps.watch_many(pids, grids, times, self.detect_arr[subs])
        put_new(self.t_detect, ids, detect.tolist())
        waiting = (detect == INF) & (corps.grid_beat[grids] >= 0)
        until = np.full(n, INF)
        until[waiting] = corps.next_shift_starts(np.maximum(times[waiting], m.env._now))
        soonest = np.minimum(np.minimum(detect, vanish), citizen)
        arm = ~waiting | (soonest < until)  # the rest are armed by the beat's rescan
        self._arm_many(list(compress(keys, arm.tolist())))
        return first

    def new_problem(self, grid: int, subclass: int, t: float) -> int:
        """One new problem at ``t`` (a training inject); returns its id."""
        return self.create_many(np.array([grid]), np.array([subclass]), np.array([t]))

    def arm_before_many(self, pids: np.ndarray, vanish: np.ndarray, until: float) -> None:
        """Arm the waiting problems ``pids`` (vanishing at ``vanish``) that have nothing armed
        and a public report or vanishing before ``until``, in order (a problem listed twice
        is armed once); the later ones wait for the next rescan, which arms them then."""
        if not pids.size:
            return
        ids = pids.tolist()
        armed = self.armed
        soon = np.minimum(gather(self.t_citizen, ids, np.float64), vanish) < until
        soon &= gather(armed, ids, np.float64) == INF
        for pid in pids[soon].tolist():
            if armed[pid] == INF:
                self._arm(pid)

    # -- scheduling --------------------------------------------------------------------------
    # A problem has one happening armed at a time: at `armed[pid]`, the earliest of its
    # pending times (INF: none). Re-arming just arms the new time; an older entry still in
    # the queue is stale, which `_happen` sees because the problem is no longer armed for
    # the moment it fires (or has ended). `_arm` is the one-problem form, for each
    # happening; `_arm_many` does the same for a batch (a day's arrivals, a shift's
    # detections) with the per-problem work in C loops (`tests/test_fast_paths.py`).
    def _arm(self, pid: int) -> None:
        t = self.t_detect[pid]
        other = self.t_citizen[pid]
        if other < t:
            t = other
        other = self.t_vanish[pid]
        if other < t:
            t = other
        now = self._env._now
        if t >= self._horizon:
            self.armed[pid] = INF
            return
        if self.reported[pid]:  # a repeat report of a problem already in the loop
            if t - now > self._window:  # beyond the scenario's window: not simulated;
                self.armed[pid] = INF   # `rearm` catches up after a crew's visit
                return
            if t >= self._park_from:  # whole life, after tonight: parked until midnight
                self.armed[pid] = self._horizon
                self._parked.append(pid)
                return
        if t < now:
            t = now
        self.armed[pid] = t
        entry = (t, NORMAL, next(self._eid), self._happen_cb, pid)  # `Clock.call`'s entry
        if t < self._tonight:
            if t < self._env.later_from:
                heappush(self._queue, entry)
            else:  # `Clock.hold`, inlined
                self._env._ahead[t // SLOT_MINUTES].append(entry)  # type: ignore[attr-defined]
        else:  # after tonight: waits for its day
            ahead = self._ahead.get(int(t // 1440.0))
            if ahead is None:
                self._ahead[int(t // 1440.0)] = [entry]
            else:
                ahead.append(entry)

    def _arm_many(self, ids: list[int], detect: np.ndarray | None = None,
                  vanish: np.ndarray | None = None) -> None:
        """`_arm` for each of the distinct problems ``ids``, in order: the same times, the
        same queue entries in the same order. ``detect`` and ``vanish`` are their
        `t_detect` and `t_vanish` when known."""
        if not ids:
            return
        if detect is None:
            detect = gather(self.t_detect, ids, np.float64)
        if vanish is None:
            vanish = gather(self.t_vanish, ids, np.float64)
        t = np.minimum(np.minimum(detect, gather(self.t_citizen, ids, np.float64)), vanish)
        now = self._env._now
        drop = t >= self._horizon
        late = t - now > self._window
        if late.any():
            drop |= late & gather(self.reported, ids, np.bool_)
        t = np.maximum(t, now)
        armed = self.armed
        value = np.where(drop, INF, t)  # what `armed` says of each
        park = (t >= self._park_from) & ~drop  # whole-life repeats after tonight: parked
        if park.any():
            park &= gather(self.reported, ids, np.bool_)
            self._parked.extend(compress(ids, park.tolist()))
            value[park] = self._horizon
            drop |= park
        if drop.any():
            deque(map(armed.__setitem__, ids, value.tolist()), maxlen=0)
            keep = ~drop
            ids, t = list(compress(ids, keep.tolist())), t[keep]
        else:
            deque(map(armed.__setitem__, ids, t.tolist()), maxlen=0)
        if ids and t.max() >= self._tonight:  # some wait for their day
            self._queue_each(t.tolist(), ids)
        else:
            self._env.call_each(t.tolist(), self._happen_cb, ids)

    def _queue_each(self, times: list[float], ids: list[int]) -> None:
        """`Clock.call_each` of `_happen` for ``ids`` at ``times``, those after tonight
        waiting for their day (as `_arm` does one at a time)."""
        queue, tonight, ahead = self._queue, self._tonight, self._ahead
        later, hold = self._env.later_from, self._env.hold
        for entry in zip(times, repeat(NORMAL), self._eid, repeat(self._happen_cb), ids,
                         strict=False):
            t = entry[0]
            if t < later:
                heappush(queue, entry)
            elif t < tonight:
                hold(entry)
            else:
                waiting = ahead.get(int(t // 1440.0))
                if waiting is None:
                    ahead[int(t // 1440.0)] = [entry]
                else:
                    waiting.append(entry)

    def _enter(self, entries: list[tuple]) -> None:
        """A day starts: its happenings enter the clock's queue, but for those of problems
        that have ended since they were armed (`_happen` would find them stale)."""
        fate, queue = self._fate, self._queue
        later, hold = self._env.later_from, self._env.hold
        for entry in entries:
            try:
                ended = fate[entry[4]]
            except KeyError:  # let go of (`GroundTruth.retire`): it ended long ago
                continue
            if not ended:
                if entry[0] < later:
                    heappush(queue, entry)
                else:
                    hold(entry)

    def _unpark(self, day: int) -> None:
        """Midnight: arm the parked repeat reports due today (park the later ones again);
        drop those of problems that ended or had something else armed since."""
        self._park_from = (day + 1) * 1440.0
        parked, self._parked = self._parked, []
        armed, fate, mark = self.armed, self._fate, self._horizon
        for pid in dict.fromkeys(parked):  # once each, in order
            if armed[pid] == mark:
                armed[pid] = INF
                if not fate[pid]:
                    self._arm(pid)

    def rearm(self, pid: int) -> None:
        """After a crew's visit left ``pid`` unsolved: arm what was deferred."""
        if self.armed[pid] == INF and not self._fate[pid]:
            self._arm(pid)

    def set_detect_many(self, pids: np.ndarray, times: np.ndarray,
                        vanish: np.ndarray) -> None:
        """Inspectors will notice ``pids`` (vanishing at ``vanish``) at ``times``, from a
        shift's new patrol plans; a problem listed twice keeps its last time."""
        if len(np.unique(pids)) < len(pids):  # the last of each, in their order
            _, last = np.unique(pids[::-1], return_index=True)
            keep = np.sort(len(pids) - 1 - last)
            pids, times, vanish = pids[keep], times[keep], vanish[keep]
        ids = pids.tolist()
        deque(map(self.t_detect.__setitem__, ids, times.tolist()), maxlen=0)
        arm = times < gather(self.armed, ids, np.float64)
        if not arm.all():
            pids, times, vanish = pids[arm], times[arm], vanish[arm]
        self._arm_many(pids.tolist(), times, vanish)

    def _happen(self, pid: int) -> None:
        now = self._env._now
        fate = self._fate
        try:
            if self.armed[pid] != now or fate[pid]:
                return  # stale: armed for another time since, or the problem has ended
        except KeyError:  # let go of (`GroundTruth.retire`, `forget`): it ended long ago
            return
        if self.t_vanish[pid] <= now:
            self.m.truth.end(pid, now, _VANISHED)
            return
        t_detect = self.t_detect
        if t_detect[pid] <= now:
            t_detect[pid] = INF
            self._inspector_finds(pid, now)
            if fate[pid]:
                return
        t_citizen = self.t_citizen
        if t_citizen[pid] <= now:
            truth = self.m.truth
            t_citizen[pid] = self.citizens.next_report(truth.subclass[pid], truth.grid[pid],
                                                       now, truth.created[pid])
            self.public_report(pid, now)
        self._arm(pid)

    # -- what a discovery does ---------------------------------------------------------------
    def _inspector_finds(self, pid: int, now: float) -> None:
        m = self.m
        truth = m.truth
        if truth.case_of(pid) >= 0:
            return  # already in a case: the inspector sees it is being handled
        sub = truth.subclass[pid]
        if self.u_on_spot() < self.on_spot[sub]:
            if isnan(truth.found[pid]):
                truth.found[pid], truth.found_by[pid] = now, _BY_INSPECTOR
            grid = truth.grid[pid]
            m.cases.self_handled(m.cases.open(pid, grid, sub, sub, _BY_INSPECTOR,
                                              self._beat_of[grid]))
            truth.end(pid, now, _FIXED_ON_SPOT)
            self.after_fix(pid, now)
            m.inspectors.fixed(grid)  # time off the patrol
            return
        self._report(pid, _BY_INSPECTOR, now)
        grid = truth.grid[pid]
        m.inspectors.reported(grid)
        if self.padding and self.u_padding() < self.padding:
            self.trivial_report(grid, sub)
            m.inspectors.reported(grid)

    def trivial_report(self, grid: int, subclass: int) -> None:
        """An inspector pads the count with something below the filing criterion; the
        shift leader voids it (what report quotas buy, `sim.engine.behaviour`)."""
        m = self.m  # seen by the leader: it does not meet the filing criterion
        m.caselife.begin(m.cases.open(-1, grid, subclass, subclass, _BY_INSPECTOR,
                                      self._beat_of[grid], verified=False))

    def public_report(self, pid: int, now: float) -> None:
        """A resident reports problem ``pid``: by phone through the 12345 hotline when the
        scenario has one, else straight to the supervision centre."""
        if self.complaint_hook is not None:  # proactive governance counts complaints
            self.complaint_hook(pid, now)
        hotline = self.m.hotline
        if hotline is not None:
            hotline.problem_call(pid, now)
        else:
            self._report(pid, _PUBLIC, now)

    def hotline_report(self, pid: int, call: int, direct: bool) -> None:
        """A hotline work order about ``pid`` reaches the supervision centre."""
        self._report(pid, _PUBLIC, self._env._now, call, direct)

    def _report(self, pid: int, channel: int, now: float, call: int = -1,
                direct: bool = False) -> None:
        m = self.m
        truth = m.truth
        self.reported[pid] = True
        if isnan(truth.found[pid]):
            truth.found[pid], truth.found_by[pid] = now, channel
        sub = truth.subclass[pid]
        believed = sub
        if channel == _BY_INSPECTOR and self.u_misclass() < m.misclassification:
            believed = misclassify(sub, self.confusable[sub], self.u_misread())
        grid = truth.grid[pid]
        m.caselife.begin(m.cases.open(pid, grid, believed, sub, channel, self._beat_of[grid],
                                      call=call, direct=direct))
        if channel == _PUBLIC and self.false_odds and self.u_false() < self.false_odds:
            self.false_report(grid, int(self.rng_misc.integers(self.n_sub)))

    def report_injected(self, pid: int, channel: int, claimed: int) -> Case:
        """A scripted report of problem ``pid`` (a training inject) through ``channel``,
        claiming subclass ``claimed``: it reaches the centre now, with no draws."""
        m = self.m
        truth = m.truth
        now = self._env._now
        self.reported[pid] = True
        if isnan(truth.found[pid]):
            truth.found[pid], truth.found_by[pid] = now, channel
        grid = truth.grid[pid]
        case = m.cases.open(pid, grid, claimed, truth.subclass[pid], channel,
                            self._beat_of[grid])
        m.caselife.begin(case)
        return case

    def report_nothing(self, grid: int, claimed: int, subclass: int, channel: int) -> Case:
        """A scripted report of nothing real (a training inject): problem -1."""
        m = self.m
        case = m.cases.open(-1, grid, claimed, subclass, channel, self._beat_of[grid])
        m.caselife.begin(case)
        return case

    def false_report(self, grid: int, subclass: int) -> None:
        """A public report of nothing real (-1 problem): verification will not find it."""
        m = self.m
        m.caselife.begin(m.cases.open(-1, grid, subclass, subclass, _PUBLIC,
                                      self._beat_of[grid]))

    def forget(self, pids: list[int]) -> None:
        """Problems retired from the ground truth (`GroundTruth.retire`) leave the pending
        times too."""
        for col in (self.t_detect, self.t_citizen, self.t_vanish, self.armed, self.reported):
            deque(map(col.pop, pids, repeat(None)), maxlen=0)

    def unseen_again(self, pid: int, now: float) -> None:
        """A case closed but the problem is still there: patrols may find it again."""
        self.reported[pid] = False
        if self.m.inspectors.active:
            truth = self.m.truth
            sub = truth.subclass[pid]
            self.t_detect[pid] = float(self.m.inspectors.watch_many(
                np.array([pid]), np.array([truth.grid[pid]]), np.array([now]),
                self.detect_arr[sub:sub + 1])[0])
        self._arm(pid)

    # -- recurrences -------------------------------------------------------------------------
    def after_fix(self, pid: int, now: float) -> None:
        """A fixed problem may come back (recurrence) after a while. Recurrences due within
        the run are made in batches (`create_many` costs the same for one as for twenty):
        at midnight with the day's arrivals, or earlier when one is due before then; never
        later than one is due."""
        if self.recurrence > 0 and self.u_recur() < self.recurrence:
            t = now + self.recur_after()
            if t >= self._horizon:
                return
            truth = self.m.truth
            self._recurring.append((truth.grid[pid], truth.subclass[pid], t, pid))
            if t < self._recur_at:  # due before the next batch: one more batch, then
                self._recur_at = t
                self._env.call(t, self._recur, None)

    def _recur(self, _: None = None) -> None:
        """Make every recurrence waiting to be made (all are due now or later)."""
        self._recur_at = (self._env._now // 1440.0 + 1.0) * 1440.0  # the next midnight
        if not self._recurring:
            return
        grids, subs, times, origins = (np.array(c) for c in zip(*self._recurring, strict=True))
        self._recurring = []
        self.create_many(grids, subs, times, origins)
