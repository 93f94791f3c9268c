"""The 12345 hotline (接诉即办): call-takers, one queue, work orders and the call-back survey.

Contacts come from two sources: residents calling about a ground-truth problem (the public
report seam of `Discovery`) and background demand drawn a day at a time. All of them go
through one FIFO `CallQueue` in arrival order; background contacts are fed to it lazily, just
before each problem call and at each day's start, so they cost no SimPy events. A problem
call that is answered becomes a grid work order when the wrap-up ends (one event): it enters the
verify-file-dispatch loop, skipping verification when the hotline dispatches directly. After
the talk the call-taker wraps up (after-call work: notes, and writing the work order, which
goes out when the wrap-up ends) and takes the next call only then. Every work order is
surveyed when it ends.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agents.hotline.demand import (
    KIND_CONSULTATION,
    KIND_GRID,
    KIND_REQUEST,
    Contacts,
    draw_background,
    route_codes,
    staffing_by_hour,
    survey,
    unit_names,
)
from sim.engine.callqueue import CallQueue, Staffing
from sim.engine.casebook import Case
from sim.engine.clock import call_at
from sim.engine.problems import Fate

if TYPE_CHECKING:
    from sim.model import CityModel

__all__ = ["Hotline", "CallLog", "CALL_COLUMNS", "finished"]

NAN = math.nan
_COLUMNS: dict[str, tuple[type, object]] = {  # name: (dtype, fill)
    "arrival": (np.float64, NAN), "kind": (np.int8, -1), "request_type": (np.int16, -1),
    "subdistrict": (np.int32, -1), "problem": (np.int32, -1), "answered": (np.bool_, False),
    "wait": (np.float64, NAN), "abandoned": (np.bool_, False), "redial": (np.bool_, False),
    "work_order": (np.bool_, False), "unit": (np.int32, -1), "deadline_hours": (np.float64, NAN),
    "ordered_at": (np.float64, NAN), "feedback_at": (np.float64, NAN),
    "reached": (np.bool_, False), "responded": (np.bool_, False), "resolved": (np.bool_, False),
    "satisfied": (np.bool_, False), "case": (np.int32, -1),
    "talk": (np.float64, NAN), "wrap": (np.float64, NAN),
}
CALL_COLUMNS = tuple(_COLUMNS)
_SINGLE = ("arrival", "kind", "request_type", "subdistrict", "problem", "redial")


class CallLog:
    """One row per call, in numpy columns grown by doubling (a year is ~700,000 calls).

    The columns known when a call is offered reach the numpy columns in bulk at `sync`
    (numpy writes one value at a time cost ~1 us a call): until then a background contact
    is only its index in today's `Contacts`, any other call (about a problem, or a redial)
    a tuple, and the call queue appends every call's answer time to `answers` (NaN: hung
    up). Row ids are given in offer order; the numpy columns always have room for every id
    given, so the columns filled later (unit, deadline, survey...) can be written before.
    A grid work order's deadline (when the order goes out) and its unit and case (when the
    case ends) wait in `later` too, as row ids and values, and reach the columns at `sync`.

    With a ``sink``, the rows whose story is told go to it a day at a time (`release`) and
    leave the columns, which then hold rows ``base ..`` only; a grid work order still open
    then waits in the held columns (``_held``, row ids ``_held_ids``, ascending) until its
    case ends. Columns are read and written by row id through `get` and `put`, wherever the
    row is.
    """

    def __init__(self, capacity: int = 65536) -> None:
        self.n = 0
        self.base = 0                    # the row id of the columns' first row
        self.sink: Callable[[dict[str, np.ndarray]], None] | None = None
        # open work orders below base: their row ids (ascending) and columns
        self._held_ids = np.zeros(0, dtype=np.int64)
        self._held = {k: np.zeros(0, dtype=dt) for k, (dt, _) in _COLUMNS.items()}
        self.col = {k: np.full(capacity, fill, dtype=dt) for k, (dt, fill) in _COLUMNS.items()}
        self.units: list[str] = []
        self._unit_index: dict[str, int] = {}
        self.answers: list[float] = []   # of the rows not synced yet, in order
        self._sources: list[int] = []    # each such row: index in today's contacts, or -1
        self._singles: list[tuple] = []  # the -1 rows: `_SINGLE` columns, talk, wrap-up
        self._contacts: Contacts | None = None
        self._first_pending = 0
        # column: (row ids, values) set since the last `sync`, written then in one go
        self.later: dict[str, tuple[list[int], list]] = {
            name: ([], []) for name in ("deadline_hours", "unit", "case")}

    def reserve(self, n: int) -> None:
        """Room in the numpy columns for rows ``base .. n - 1``."""
        size = len(self.col["arrival"])
        if n - self.base <= size:
            return
        while size < n - self.base:
            size *= 2
        for k, (dt, fill) in _COLUMNS.items():
            old = self.col[k]
            grown = np.full(size, fill, dtype=dt)
            grown[: len(old)] = old
            self.col[k] = grown

    def new_day(self, contacts: Contacts) -> None:
        """Today's background contacts, which `add_contacts` refers to."""
        self.sync()
        self._contacts = contacts

    def add_offered(self, arrival: float, kind: int, rtype: int, sub: int, problem: int,
                    redial: bool, talk: float, wrap: float) -> int:
        """A call that is not one of today's contacts, whose answer time the call queue has
        already appended to `answers`. Returns its row id."""
        cid = self.n
        self.reserve(cid + 1)
        self._sources.append(-1)
        self._singles.append((arrival, kind, rtype, sub, problem, redial, talk, wrap))
        self.n = cid + 1
        return cid

    def add_contacts(self, start: int, stop: int) -> None:
        """Today's contacts ``start .. stop - 1``, offered in a row, whose answer times the
        call queue has already appended to `answers`."""
        self._sources += range(start, stop)
        self.n += stop - start
        self.reserve(self.n)

    def sync(self) -> None:
        """Write the pending columns (before reading them)."""
        for name, (cids, values) in self.later.items():
            if cids:
                self.put(name, np.array(cids, dtype=np.int64), values)
                cids.clear()
                values.clear()
        k = len(self._sources)
        if not k:
            return
        first = self._first_pending
        rows = np.arange(first, first + k) - self.base
        src = np.array(self._sources, dtype=np.intp)
        contact = src >= 0
        talk, wrap = np.empty(k), np.empty(k)
        c = self.col
        if self._contacts is not None:
            d, at, to = self._contacts, src[contact], rows[contact]
            for name, values in (("arrival", d.arrival), ("kind", d.kind),
                                 ("request_type", d.request_type),
                                 ("subdistrict", d.subdistrict)):
                c[name][to] = values[at]
            talk[contact] = d.talk[at]
            wrap[contact] = d.wrap[at]
        if self._singles:
            to = rows[~contact]
            columns = list(zip(*self._singles, strict=True))
            for name, values in zip(_SINGLE, columns, strict=False):
                c[name][to] = values
            talk[~contact], wrap[~contact] = columns[-2], columns[-1]
        span = slice(first - self.base, first + k - self.base)
        answer = np.array(self.answers, dtype=np.float64)
        answered = ~np.isnan(answer)
        c["answered"][span] = answered
        c["abandoned"][span] = ~answered
        c["wait"][span] = answer - c["arrival"][span]  # NaN when hung up
        c["ordered_at"][span] = answer + talk + wrap  # the order is written in the wrap-up
        c["talk"][span] = np.where(answered, talk, NAN)
        c["wrap"][span] = np.where(answered, wrap, NAN)
        c["work_order"][span] = answered & (c["kind"][span] != KIND_CONSULTATION)
        self.answers, self._sources, self._singles = [], [], []
        self._first_pending = first + k

    def unit(self, name: str) -> int:
        i = self._unit_index.get(name)
        if i is None:
            i = self._unit_index[name] = len(self.units)
            self.units.append(name)
        return i

    def get(self, name: str, cids: np.ndarray) -> np.ndarray:
        """Column ``name`` of rows ``cids`` (synced)."""
        cids = np.asarray(cids, dtype=np.int64)
        out = self.col[name][np.maximum(cids - self.base, 0)]
        held = cids < self.base
        if held.any():
            out[held] = self._held[name][np.searchsorted(self._held_ids, cids[held])]
        return out

    def put(self, name: str, cids: np.ndarray | list[int] | int, values: object) -> None:
        """Set column ``name`` of rows ``cids`` (one row, or several)."""
        if type(cids) is int:  # one row: no arrays made
            if cids >= self.base:
                self.col[name][cids - self.base] = values
            else:
                self._held[name][self._held_ids.searchsorted(cids)] = values
            return
        cids = np.asarray(cids, dtype=np.int64)
        here = cids >= self.base
        if here.all():
            self.col[name][cids - self.base] = values
            return
        values = np.broadcast_to(np.asarray(values), cids.shape)
        self.col[name][cids[here] - self.base] = values[here]
        self._held[name][np.searchsorted(self._held_ids, cids[~here])] = values[~here]

    def release(self, upto: int, horizon: float, everything: bool = False) -> None:
        """Hand the sink every row before ``upto`` whose story is told (all of them with
        ``everything``), as `finished` columns; the columns keep rows ``upto ..``."""
        assert self.sink is not None
        self.sync()
        c, base = self.col, self.base
        span = slice(0, upto - base)
        done = ~(c["work_order"][span] & np.isnan(c["feedback_at"][span])) | everything
        held = self._held
        wait = np.flatnonzero(~done)  # grid work orders whose cases are still open: kept aside
        if wait.size:
            self._held_ids = np.concatenate([self._held_ids, base + wait])
            for k in held:
                held[k] = np.concatenate([held[k], c[k][wait]])
        told = np.ones(len(self._held_ids), dtype=bool) if everything else \
            ~np.isnan(held["feedback_at"])  # the held ones whose case has ended: first
        rows = {"call": np.concatenate([self._held_ids[told], base + np.flatnonzero(done)])}
        for k in _COLUMNS:
            rows[k] = np.concatenate([held[k][told], c[k][span][done]])
        if told.any():
            self._held_ids = self._held_ids[~told]
            for k in held:
                held[k] = held[k][~told]
        keep = slice(upto - base, self.n - base)   # rows after ``upto``: moved to the front
        for k, v in c.items():  # (rows from ``n`` on were never written: still the fill)
            kept = v[keep].copy()
            v[: len(kept)] = kept
            v[len(kept): self.n - base] = _COLUMNS[k][1]
        self.base = upto
        if len(rows["call"]) or everything:
            self.sink(finished(rows, horizon))

    def frame(self) -> pd.DataFrame:
        self.sync()
        df = pd.DataFrame({k: v[: self.n - self.base] for k, v in self.col.items()})
        names = np.asarray([*self.units, ""], dtype=object)
        df["unit"] = names[df["unit"].to_numpy()]
        return df


def finished(rows: dict[str, np.ndarray], horizon: float) -> dict[str, np.ndarray]:
    """Call rows as the run ends them: order and feedback times after the horizon are not
    known (NaN), so their work orders are open and unsurveyed; adds ``work_order_open`` and
    ``closed``."""
    for col in ("ordered_at", "feedback_at"):
        rows[col][rows[col] > horizon] = np.nan
    open_ = np.isnan(rows["feedback_at"])
    for col in ("reached", "responded", "resolved", "satisfied"):
        rows[col][open_] = False
    rows["work_order_open"] = rows["work_order"] & open_
    rows["closed"] = rows["work_order"] & ~open_
    return rows


class Hotline:
    """The hotline's call-takers and its work-order desk."""

    def __init__(self, model: CityModel) -> None:
        self.m = model
        spec = model.spec.hotline
        self.spec = spec
        self.queue = CallQueue(
            Staffing(staffing_by_hour(spec), start_weekday=model.spec.start_date.weekday()),
            spec.redial_probability, model.sampler("hotline:redial", spec.redial_minutes),
            model.uniforms("hotline:redial-chance"))
        self.talk = model.sampler("hotline:talk", spec.talk_seconds, 1 / 60.0)
        self.wrap_rng = model.streams["hotline:wrap-up"]
        self.after_call = (None if spec.after_call_seconds is None else
                           model.sampler("hotline:after-call", spec.after_call_seconds, 1 / 60))
        self.order_entry = (None if spec.order_seconds is None else
                            model.sampler("hotline:order-entry", spec.order_seconds, 1 / 60))
        self.patience = model.sampler("hotline:patience", spec.patience_seconds, 1 / 60.0)
        self.draws = model.streams["hotline:background"]
        self.survey_rng = model.streams["hotline:survey"]
        self.route_rng = model.streams["hotline:routing"]
        city = model.city
        self.resident_share = np.bincount(city.subdistrict, weights=city.residents,
                                          minlength=city.n_subdistricts)
        self.subdistrict_names = list(city.subdistrict_names)
        self.log = CallLog()
        self._unit_names = unit_names(spec, self.subdistrict_names)
        self._unit_codes = np.array([self.log.unit(u) for u in self._unit_names])  # in the log
        self._day: tuple[Contacts, list, list, list] | None = None  # today's contacts
        self._next = 0
        self._redials: list[tuple[float, int, int, int, int]] = []  # time, seq, kind, type, sub
        self._order_problem: dict[int, int] = {}  # grid work order (call) -> its problem
        self._seq = 0
        self._settled = 0  # calls before this row have been settled
        # cid, when, resolved, reworks, further calls about the same problem
        self._grid_ended: list[tuple[int, float, bool, int, int]] = []
        self.urgent = [s.urgency == "urgent" for s in model.handbook.subclasses]
        # a grid work order's deadline, unit and case: set in the log at its next `sync`
        self._later_deadline = self.log.later["deadline_hours"]
        self._later_unit = self.log.later["unit"]
        self._later_case = self.log.later["case"]

    # -- records -----------------------------------------------------------------------------
    def _offer(self, arrival: float, kind: int, rtype: int, sub: int, problem: int,
               redial: bool) -> tuple[int, float, float | None]:
        """Offer one call (a problem call or a redial) to the queue and log it. Returns its
        row, the end of its wrap-up (NaN: the caller hung up) and when the caller redials."""
        talk = self.talk()
        wrap = 0.0
        if self.after_call is not None:
            wrap += self.after_call()
        if self.order_entry is not None and kind != KIND_CONSULTATION:
            wrap += self.order_entry()
        log = self.log
        answers = log.answers
        _, redial_at = self.queue.offer_run((arrival,), (talk + wrap,), (self.patience(),), 0,
                                            arrival, answers)
        return log.add_offered(arrival, kind, rtype, sub, problem, redial, talk, wrap), \
            answers[-1] + talk + wrap, redial_at

    # -- background demand -------------------------------------------------------------------
    def start(self) -> None:
        days = range(self.m.days)  # each queued when the day before starts
        self.m.env.call_chain([day * 1440.0 for day in days], self._new_day, days)

    def _new_day(self, day: int) -> None:
        t = day * 1440.0
        self.flush(t)
        self._settle_background()
        if self.log.sink is not None:  # yesterday's finished calls leave memory
            self.log.release(self._settled, self.m.horizon)
        date = self.m.calendar.date_of(t)
        d = draw_background(self.spec, self.draws, t, date.weekday(),
                            date in self.m.discovery.holidays, self.resident_share,
                            self.wrap_rng)
        self.log.new_day(d)
        for begin, end, seats in d.surges:  # reserves called in for today's big incidents
            self.queue.add_seats(begin, end, seats)
        # plain lists for the queue, which reads them one call at a time: a seat is busy for
        # the talk and the wrap-up
        self._day = d, d.arrival.tolist(), (d.talk + d.wrap).tolist(), d.patience.tolist()
        self._next = 0

    def flush(self, t: float) -> None:
        """Offer the queue every background contact and redial arriving up to ``t``, in
        arrival order (a contact before a redial at the same moment). Runs of contacts
        between redials go to the queue in one call (`CallQueue.offer_run`)."""
        day = self._day
        if day is None:
            return
        contacts, arr, service, patience = day
        red = self._redials
        log = self.log
        offer_run = self.queue.offer_run
        while True:
            r = red[0][0] if red else math.inf
            i = self._next
            stop, redial_at = offer_run(arr, service, patience, i, t if t < r else r,
                                        log.answers)
            if stop > i:
                log.add_contacts(i, stop)
                self._next = stop
            if redial_at is not None:  # the run's last caller hung up and will call again
                j = stop - 1
                self._redial_later(redial_at, int(contacts.kind[j]),
                                   int(contacts.request_type[j]), int(contacts.subdistrict[j]))
            elif r > t:
                return
            else:
                when, _, r_kind, r_type, r_sub = heapq.heappop(red)
                _, _, redial_at = self._offer(when, r_kind, r_type, r_sub, -1, True)
                if redial_at is not None:
                    self._redial_later(redial_at, r_kind, r_type, r_sub)

    def _redial_later(self, when: float, kind: int, rtype: int, sub: int) -> None:
        if when < self.m.horizon:
            self._seq += 1
            heapq.heappush(self._redials, (when, self._seq, kind, rtype, sub))

    def _settle_background(self) -> None:
        """Route, handle and survey the work orders taken or ended since the last settling
        (vectorised, once a day)."""
        log = self.log
        log.sync()
        self._settle_grid()
        c = log.col
        new = slice(self._settled - log.base, log.n - log.base)
        self._settled = log.n
        ids = new.start + np.flatnonzero((c["kind"][new] == KIND_REQUEST) & c["answered"][new])
        if ids.size == 0:
            return
        rtype = c["request_type"][ids].astype(np.int64)
        sub = c["subdistrict"][ids]
        units, backstop, slowdown = route_codes(self.spec, rtype, sub, self._unit_names,
                                                self.route_rng.random(ids.size),
                                                self.route_rng.random(ids.size))
        handling = np.empty(ids.size)
        resolve_p = np.empty(ids.size)
        deadline = np.empty(ids.size)
        for t in np.unique(rtype):
            r = self.spec.requests[int(t)]
            mask = rtype == t
            handling[mask] = r.handling_hours.draw(self.route_rng, int(mask.sum()))
            resolve_p[mask] = r.resolve_probability
            deadline[mask] = r.deadline_hours
        spec = self.spec
        handling = np.where(backstop, handling * spec.backstop_slowdown, handling) * slowdown
        # re-routing, and coordinating a shared duty, cost time
        resolved = self.survey_rng.random(ids.size) < np.where(
            backstop, resolve_p * spec.backstop_resolve, resolve_p)
        reached, responded, resolved, satisfied = survey(
            self.survey_rng, spec.survey, hours_to_feedback=handling, deadline_hours=deadline,
            resolved=resolved, reworks=np.zeros(ids.size), reach=self.spec.survey_response)
        c["unit"][ids] = self._unit_codes[units]
        c["deadline_hours"][ids] = deadline
        c["feedback_at"][ids] = c["ordered_at"][ids] + handling * 60.0
        c["reached"][ids], c["responded"][ids] = reached, responded
        c["resolved"][ids], c["satisfied"][ids] = resolved, satisfied

    def _settle_grid(self) -> None:
        """Survey the grid work orders that ended since the last settling."""
        if not self._grid_ended:
            return
        cid, when, fixed, reworks, repeats = (np.asarray(x) for x in
                                              zip(*self._grid_ended, strict=True))
        self._grid_ended = []
        log = self.log
        hours = (when - log.get("ordered_at", cid)) / 60.0
        reached, responded, resolved, satisfied = survey(
            self.survey_rng, self.spec.survey, hours_to_feedback=hours,
            deadline_hours=log.get("deadline_hours", cid),
            resolved=fixed.astype(bool), reworks=reworks, repeats=repeats,
            reach=self.spec.survey_response)
        for name, values in (("feedback_at", when), ("reached", reached),
                             ("responded", responded), ("resolved", resolved),
                             ("satisfied", satisfied)):
            log.put(name, cid, values)

    # -- residents calling about grid problems -----------------------------------------------
    def problem_call(self, pid: int, now: float, redial: bool = False) -> None:
        """A resident phones about problem ``pid`` (Discovery's public-report seam)."""
        self.flush(now)
        grid = self.m.truth.grid[pid]
        cid, end, redial_at = self._offer(now, KIND_GRID, -1,
                                          int(self.m.city.subdistrict[grid]), pid, redial)
        env = self.m.env
        if end == end:  # answered (not NaN)
            call_at(env, end - now, self._work_order, (pid, cid))
        elif redial_at is not None and redial_at < self.m.horizon:
            call_at(env, redial_at - now, self._redial, pid)

    def _redial(self, pid: int) -> None:
        if self.m.truth.is_open(pid):  # (False for a problem let go of: it ended long ago)
            self.problem_call(pid, self.m.env._now, redial=True)

    def _work_order(self, value: tuple[int, int]) -> None:
        pid, cid = value
        m = self.m
        sub = m.truth.subclass[pid]
        cids, hours = self._later_deadline
        cids.append(cid)
        hours.append(self.spec.urgent_deadline_hours if self.urgent[sub] else
                     self.spec.grid_deadline_hours)
        if m.truth.fate[pid] != Fate.OPEN:  # gone before the order went out
            self._grid_ended.append((cid, m.env._now, True, 0, 0))
            return
        self._order_problem[cid] = pid
        m.discovery.hotline_report(pid, cid, direct=self.spec.direct_dispatch)

    def case_ended(self, case: Case) -> None:
        """A case carrying hotline calls closed, was voided or merged: survey the callers."""
        calls = case.calls
        if not calls:
            return
        m = self.m
        fate = m.truth.fate
        unit = self.log.unit(
            m.department_names[case.department] if case.department >= 0 else
            f"subdistrict:{self.subdistrict_names[int(m.city.subdistrict[case.grid])]}")
        now = m.env._now
        repeats = len(calls) - 1  # every caller hears of the others' calls as its own repeats
        about = self._order_problem
        n = len(calls)
        cids, units = self._later_unit
        cids += calls
        units += [unit] * n
        cids, cases = self._later_case
        cids += calls
        cases += [case.id] * n
        # resolved: the caller's own problem is gone (it may have ridden on a case about
        # another one after that one's visit)
        for cid in calls:
            pid = about.pop(cid, case.problem)
            try:
                gone = pid >= 0 and fate[pid] != Fate.OPEN
            except KeyError:  # let go of by a streamed run (`GroundTruth.retire`): ended
                gone = True
            self._grid_ended.append((cid, now, gone, case.reworks, repeats))

    # -- end of run --------------------------------------------------------------------------
    def finish(self) -> pd.DataFrame | None:
        """Offer what arrived before the horizon, settle the day, return the calls table
        (None when the call log hands its rows to a sink: they are all there)."""
        self.flush(self.m.horizon)
        self._settle_background()
        log = self.log
        if log.sink is not None:
            log.release(log.n, self.m.horizon, everything=True)
            return None
        log.sync()
        rows = {"call": np.arange(log.n, dtype=np.int64),
                **{k: v[: log.n] for k, v in log.col.items()}}
        df = pd.DataFrame(finished(rows, self.m.horizon))
        names = np.asarray([*log.units, ""], dtype=object)
        df["unit"] = names[df["unit"].to_numpy()]
        return df

