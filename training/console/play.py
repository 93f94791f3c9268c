"""Live sessions behind the console: rebuilt by replay, paced by real time, graded at the end.

The one place the console touches the training core (`training.exercises`,
`training.session`, `training.grading`). A `SessionDesk` keeps each open session in memory
with a lock; when a session is not in memory (first use, or after a server restart) it is
rebuilt from what the database holds: ``Session.replay`` of the last committed record, then
the clock advanced to the committed simulated time. A decision goes to the engine first (so a
refused one changes nothing), then to the database; only after the commit is it acknowledged,
and if the commit fails the in-memory session is dropped and rebuilt from the database.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sim import i18n
from sim.errors import GridLoopError
from training.console.db import ConsoleStore

__all__ = ["SessionDesk", "Refusal", "exercise_catalogue", "public_exercise", "card_view",
           "to_plain", "TrainingCore", "MAX_GAP_SECONDS", "STEP_CHOICES", "CLOCK_SAVE_MINUTES",
           "exercise_text"]

MAX_GAP_SECONDS = 5.0      # a paced clock runs only while the trainee's page is open
# A paced clock is written to the database when it has moved this many simulated minutes
# since last written (and with every decision, step and at the end), not on every poll: a
# restart resumes a session at most this far behind where its page was; no decision is lost.
CLOCK_SAVE_MINUTES = 10.0
STEP_CHOICES = (5, 15, 30, 60, 120, 240)   # minutes a step button may advance
CARD_FIELDS = ("id", "kind", "case_id", "received_at", "channel", "description", "grid_code",
               "x", "y", "claimed_subclass", "options")
EXERCISE_FIELDS = ("id", "title", "level", "role", "briefing", "pace", "window")


log = logging.getLogger(__name__)


class Refusal(GridLoopError):
    """A request the session cannot take (bad card, bad action, finished session...).

    ``message`` is English with ``{name}`` fields from ``args`` (`text` gives it in a
    language), or a message already written in the session's language (a decision's)."""

    def __init__(self, message: str, **args: Any) -> None:
        self.said = i18n.Message(message, **args)
        super().__init__(str(self.said))

    def text(self, lang: str) -> str:
        return self.said.text(lang)


class Written(Refusal):
    """A `Refusal` whose message is already in the session's language (the core's)."""

    def text(self, lang: str) -> str:
        return self.said.text_


def to_plain(obj: Any) -> Any:
    """Pydantic models, dataclasses, tuples and enums as JSON-ready values."""
    if hasattr(obj, "model_dump"):
        return to_plain(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_plain(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):       # numpy scalars
        return obj.item()
    if hasattr(obj, "value") and hasattr(obj, "name") and not isinstance(obj, str | int):
        return to_plain(obj.value)
    return obj


class TrainingCore:
    """The training core as the console uses it; tests may hand the desk another one."""

    def catalogue(self) -> dict[str, Any]:
        """Every shipped exercise by id (`training.exercises.list_exercises`)."""
        from training.exercises import list_exercises, load_exercise

        out: dict[str, Any] = {}
        for item in list_exercises():
            ex = load_exercise(item) if isinstance(item, str) else item
            out[str(ex.id)] = ex
        return out

    def new_session(self, exercise: Any, seed: int | None) -> Any:
        from training.session import Session

        return Session(exercise, seed=seed)

    def replay(self, record_json: str, exercise: Any) -> Any:
        from training.session import Session, SessionRecord

        return Session.replay(SessionRecord.model_validate_json(record_json), exercise=exercise)

    def record(self, exercise_id: str, seed: int, record_json: str | None, now: float) -> Any:
        """The session record as stored: the last committed one, its clock at ``now``."""
        from training.session import SessionRecord

        if record_json is None:
            return SessionRecord(exercise_id=exercise_id, seed=seed, now=now)
        rec = SessionRecord.model_validate_json(record_json)
        return rec.model_copy(update={"now": max(rec.now, now)})

    def grade(self, record: Any, exercise: Any) -> Any | None:
        """The grade of a record, or None while the core has no grading."""
        try:
            from training.grading import grade
        except ImportError:
            return None
        return grade(record, exercise=exercise)

    def grade_played(self, session: Any, exercise: Any) -> Any | None:
        """The grade of a live session as it stands: the same as `grade` of its record,
        without replaying it (`training.grading.grade`'s ``played``)."""
        try:
            from training.grading import grade
        except ImportError:
            return None
        return grade(session.record, exercise=exercise, played=session)

    @property
    def invalid_decision(self) -> type[Exception]:
        from training.errors import InvalidDecision

        return InvalidDecision


def exercise_catalogue() -> dict[str, Any]:
    return TrainingCore().catalogue()


def exercise_text(ex: Any) -> dict[str, str]:
    """An exercise's title, briefing, level and role as read in the language in force."""
    from training.wording import LEVELS, ROLES, label

    text = getattr(ex, "text", None)
    return {"title": text("title") if text else str(getattr(ex, "title", "")),
            "briefing": text("briefing") if text else str(getattr(ex, "briefing", "")),
            "level": label(LEVELS, getattr(ex, "level", "")),
            "role": label(ROLES, getattr(ex, "role", ""))}


def public_exercise(ex: Any) -> dict[str, Any]:
    """What a trainee may know of an exercise: no rubric, no scripted injects, no seed
    (its words in the language in force)."""
    out = {k: to_plain(getattr(ex, k, None)) for k in EXERCISE_FIELDS}
    shown = exercise_text(ex)
    out.update(title=shown["title"], briefing=shown["briefing"], role_label=shown["role"],
               level_label=shown["level"])
    return out


def card_view(card: Any, session: Any = None) -> dict[str, Any]:
    """A card as the trainee sees it: what the platform knows (the core never puts the
    ground truth on a card), with its options (actions and their fields), and the words
    for its codes in the language in force (``*_label``; the description is written in it
    when the card is made)."""
    from training.wording import ACTIONS, CHANNELS, KINDS, URGENCY, department_name, label

    view = to_plain(card)
    if not isinstance(view, dict):
        view = {k: to_plain(getattr(card, k, None)) for k in CARD_FIELDS}
    spec = getattr(getattr(session, "model", None), "spec", None)
    dept = (lambda n: department_name(spec, n)) if spec is not None else str
    view["kind_label"] = label(KINDS, view.get("kind"))
    view["channel_label"] = label(CHANNELS, view.get("channel"))
    for key in ("department", "returned_from"):
        if view.get(key):
            view[f"{key}_label"] = dept(view[key])
    if session is not None and view.get("claimed_subclass"):
        try:
            sub = session.handbook.subclasses[session.handbook.index(view["claimed_subclass"])]
            view["claimed_subclass_name"] = i18n.local_name(sub.name, sub.name_zh)
        except (KeyError, AttributeError):
            pass
    names = _subclass_names(session)
    for opt in view.get("options") or ():
        opt["action_label"] = label(ACTIONS, opt.get("action"))
        opt["label"] = i18n.translate(opt.get("label") or "", i18n.current())
        for f in opt.get("fields") or ():
            f["label"] = i18n.translate(f.get("label") or "", i18n.current())
            choices = f.get("choices") or []
            if f.get("name") == "department":
                f["choice_labels"] = [dept(c) for c in choices]
            elif f.get("name") == "urgency":
                f["choice_labels"] = [label(URGENCY, c) for c in choices]
            elif f.get("name") == "subclass":
                f["choice_labels"] = [f"{c} {names.get(c, '')}".rstrip() for c in choices]
    return view


def _subclass_names(session: Any) -> dict[str, str]:
    hb = getattr(session, "handbook", None)
    if hb is None:
        return {}
    return {s.code: i18n.local_name(s.name, s.name_zh) for s in hb.subclasses}


@dataclasses.dataclass
class Live:
    session: Any
    exercise: Any
    lock: threading.Lock
    n_decisions: int
    tick: float          # monotonic seconds of the last clock update
    finished: bool
    saved: float = 0.0   # the simulated time the database holds for the session
    lang: str = i18n.DEFAULT   # the language its cards (and grade) are written in


class SessionDesk:
    """Open sessions by database id; every call holds that session's lock."""

    def __init__(self, store: ConsoleStore, exercises: Callable[[], dict[str, Any]],
                 core: TrainingCore | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 grade_in_background: bool = False) -> None:
        """``grade_in_background``: a session that ends is graded by one grading thread
        while the request that ended it returns (`graded` waits for it); otherwise in that
        request. The console grades in the background: a class ends together, and thirty
        gradings in thirty polls held up every other request of that second."""
        self.store, self._exercises, self._clock = store, exercises, clock
        self._grader = ThreadPoolExecutor(1, "grading") if grade_in_background else None
        self._grading: dict[int, Future] = {}
        self.core = core or TrainingCore()
        self._live: dict[int, Live] = {}
        self._guard = threading.Lock()
        self._building: dict[int, threading.Lock] = {}

    # -- building ---------------------------------------------------------------------------
    def exercise(self, exercise_id: str) -> Any:
        ex = self._exercises().get(exercise_id)
        if ex is None:
            raise Refusal(i18n.N_("exercise {id} is not in the catalogue"), id=repr(exercise_id))
        return ex

    def _build(self, session_id: int, lang: str) -> Live:
        with i18n.use(lang):          # its cards are written in ``lang``
            lv = self._replay(session_id)
        lv.lang = lang
        return lv

    def _replay(self, session_id: int) -> Live:
        row = self.store.session(session_id)
        if row is None:
            raise Refusal(i18n.N_("no session {id}"), id=session_id)
        ex = self.exercise(row["exercise_id"])
        record = self.store.latest_record(session_id)
        log = self.store.decisions_of(session_id)
        if record:
            s = self.core.replay(record, ex)
        else:
            s = self.core.new_session(ex, row["seed"])
            for d in log:      # a log without records: replay it decision by decision
                if d["sim_time"] > s.now:
                    s.advance(d["sim_time"] - s.now)
                s.decide(d["card_id"], d["action"], **d["fields"])
        if row["sim_now"] > s.now and not s.finished:
            s.advance(row["sim_now"] - s.now)
        return Live(s, ex, threading.Lock(), len(log), self._clock(),
                    row["finished_at"] is not None, float(row["sim_now"]))

    def live(self, session_id: int, lang: str | None = None) -> Live:
        """The live session, rebuilt from the database if it is not in memory, or if its
        cards are written in another language than ``lang`` (None: whichever it has)."""
        with self._guard:
            got = self._live.get(session_id)
            if got is not None and (lang is None or got.lang == lang):
                return got
            building = self._building.setdefault(session_id, threading.Lock())
        with building:                      # one rebuild per session, others wait for it
            with self._guard:
                got = self._live.get(session_id)
            if got is None or (lang is not None and got.lang != lang):
                got = self._build(session_id, lang or i18n.DEFAULT)
                with self._guard:
                    self._live[session_id] = got
        return got

    def forget(self, session_id: int) -> None:
        with self._guard:
            self._live.pop(session_id, None)

    # -- playing ----------------------------------------------------------------------------
    def state(self, session_id: int, *, run_clock: bool = True,
              lang: str | None = None) -> dict[str, Any]:
        """The trainee's view now, in ``lang``; a paced clock first catches up with real
        time."""
        lv = self.live(session_id, lang)
        with lv.lock, i18n.use(lv.lang):
            if run_clock:
                self._run_clock(session_id, lv)
            return self._view(lv)

    def step(self, session_id: int, minutes: int | None,
             lang: str | None = None) -> dict[str, Any]:
        """Advance a step-by-step session ``minutes``, or (None) to the next card."""
        lv = self.live(session_id, lang)
        with lv.lock, i18n.use(lv.lang):
            if lv.finished:
                raise Refusal(i18n.N_("this session has ended"))
            if float(getattr(lv.exercise, "pace", 0) or 0) > 0:
                raise Refusal(i18n.N_("this exercise runs on its own clock; it has no step "
                                      "button"))
            if minutes is None:      # minute by minute to the next card, at most 4 hours
                for _ in range(max(STEP_CHOICES)):
                    self._advance(session_id, lv, 1.0, save=False)
                    if lv.finished or lv.session.pending():
                        break
                self._advance(session_id, lv, 0.0)
                return self._view(lv)
            if minutes not in STEP_CHOICES:
                raise Refusal(i18n.N_("step: expected one of {choices} minutes, or the next "
                                      "card, got {got}"),
                              choices=", ".join(map(str, STEP_CHOICES)), got=minutes)
            self._advance(session_id, lv, float(minutes))
            return self._view(lv)

    def decide(self, session_id: int, card_id: str, action: str,
               fields: dict[str, Any], lang: str | None = None) -> dict[str, Any]:
        lv = self.live(session_id, lang)
        with lv.lock, i18n.use(lv.lang):
            if lv.finished:
                raise Refusal(i18n.N_("this session has ended; decisions are closed"))
            self._run_clock(session_id, lv, save=False)   # the decision's commit saves it
            if lv.finished:
                raise Refusal(i18n.N_("the exercise window closed before this decision "
                                      "arrived"))
            try:
                decision = lv.session.decide(card_id, action, **fields)
            except self.core.invalid_decision as e:
                raise Written(str(e)) from None
            except TypeError as e:     # a field the decision point does not take
                raise Written(f"{action}: {e}") from None
            record = lv.session.record.model_dump_json()
            try:
                self.store.record_decision(session_id, lv.n_decisions, float(lv.session.now),
                                           card_id, action, fields, record)
            except BaseException:
                self.forget(session_id)   # the engine took it, the database did not: rebuild
                raise
            lv.n_decisions += 1
            lv.saved = float(lv.session.now)
            view = self._view(lv)
            view["acknowledged"] = {"seq": lv.n_decisions - 1, "card_id": card_id,
                                    "action": action, "decision": to_plain(decision),
                                    "action_label": _action_label(action)}
            return view

    def _run_clock(self, session_id: int, lv: Live, save: bool | None = None) -> None:
        now = self._clock()
        gap = min(max(now - lv.tick, 0.0), MAX_GAP_SECONDS)
        lv.tick = now
        pace = float(getattr(lv.exercise, "pace", 0) or 0)
        if pace > 0 and not lv.finished:
            self._advance(session_id, lv, pace * gap, save=save)
        elif lv.session.finished and not lv.finished:
            self._finish(session_id, lv)

    def _advance(self, session_id: int, lv: Live, minutes: float,
                 save: bool | None = True) -> None:
        """Run the session ``minutes`` on; ``save`` the clock: True always, None when it has
        moved `CLOCK_SAVE_MINUTES` since last saved, False not (the end is always saved)."""
        s = lv.session
        if lv.finished:
            return
        end = float(s.window_end)
        minutes = min(minutes, max(end - float(s.now), 0.0))
        if minutes > 0:
            s.advance(minutes)
        if s.finished or float(s.now) >= end:
            self._finish(session_id, lv)
        elif save or (save is None and float(s.now) - lv.saved >= CLOCK_SAVE_MINUTES):
            self.store.set_clock(session_id, float(s.now), finished=False)
            lv.saved = float(s.now)

    def _finish(self, session_id: int, lv: Live) -> None:
        self.store.set_clock(session_id, float(lv.session.now), finished=True)
        lv.saved = float(lv.session.now)
        lv.finished = True
        if self._grader is None:
            self.regrade(session_id, lv)
            return
        with self._guard:
            self._grading[session_id] = self._grader.submit(self._grade_ended, session_id, lv)

    def _grade_ended(self, session_id: int, lv: Live) -> None:
        with lv.lock, i18n.use(lv.lang):   # the ended session is read by polls meanwhile
            try:
                self.regrade(session_id, lv)
            except Exception:          # noqa: BLE001 - `graded` grades it again from the record
                log.exception("grading session %s failed", session_id)

    def graded(self, session_id: int) -> None:
        """Wait until a session that has ended is graded (if a grade is coming)."""
        with self._guard:
            pending = self._grading.get(session_id)
        if pending is not None:
            pending.result()
            with self._guard:
                self._grading.pop(session_id, None)

    def regrade(self, session_id: int, lv: Live | None = None,
                lang: str | None = None) -> dict[str, Any] | None:
        """Grade a finished session from its record (a pure function of it) and store it.

        With ``lv`` the live session's record is graded; without, the record is read from
        the database, so regrading a class does not rebuild every session first. The
        feedback is written in the live session's language, else ``lang``, else the
        language of its previous grade (what the trainee read), else English."""
        if lang is None:
            old = self.store.grade(session_id) if lv is None else None
            lang = lv.lang if lv is not None else (
                (old or {}).get("detail", {}).get("lang") or i18n.DEFAULT)
        with i18n.use(lang):
            return self._regrade(session_id, lv, lang)

    def _regrade(self, session_id: int, lv: Live | None, lang: str) -> dict[str, Any] | None:
        if lv is not None:
            exercise_id, record = str(lv.exercise.id), lv.session.record
        else:
            row = self.store.session(session_id)
            if row is None:
                raise Refusal(i18n.N_("no session {id}"), id=session_id)
            exercise_id = row["exercise_id"]
            record = self.core.record(exercise_id, int(row["seed"]),
                                      self.store.latest_record(session_id), row["sim_now"])
        exercise = self.exercise(exercise_id)    # the catalogue's rubric as it is now
        played = getattr(self.core, "grade_played", None) if lv is not None else None
        g = played(lv.session, exercise) if played else self.core.grade(record, exercise)
        if g is None:
            return None
        detail = to_plain(g)
        if isinstance(detail, dict):
            detail["lang"] = lang
        letter = getattr(g, "letter", None) or getattr(g, "grade", "")   # the core says grade
        self.store.save_grade(session_id, float(g.score), str(letter), detail)
        return detail

    def _view(self, lv: Live) -> dict[str, Any]:
        s = lv.session
        return {
            "now": float(s.now), "clock": _clock_text(s), "window_end": float(s.window_end),
            "finished": bool(lv.finished), "pace": float(getattr(lv.exercise, "pace", 0) or 0),
            "steps": list(STEP_CHOICES), "decisions": lv.n_decisions, "lang": lv.lang,
            "pending": [] if lv.finished else [card_view(c, s) for c in s.pending()],
        }


def _clock_text(s: Any) -> str:
    """The session's simulated time as the desk shows it, in the language in force."""
    try:
        from training.describe import minute_text

        return minute_text(s, float(s.now))
    except (AttributeError, ImportError):       # a test's stand-in session
        return str(s.clock_text)


def _action_label(action: str) -> str:
    from training.wording import ACTIONS, label

    return label(ACTIONS, action)
