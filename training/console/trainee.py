"""The trainee's pages: assignments, the play screen, its JSON calls, and the result.

A trainee reaches only their own sessions; every lookup goes through `own_session` (or, for
the play calls, `own_live_session`), which answers 404 for a session that is not theirs (so
ids of others' work reveal nothing). Nothing here sends the rubric, the scripted injects or
the reference run: the grade page opens only once the exercise window has closed.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from sim import i18n
from sim.errors import GridLoopError
from training.console.app import (
    LoggedIn,
    Trainee,
    Untranslated,
    check_csrf,
    console,
    fail,
    language_of,
    page,
)
from training.console.db import User
from training.console.grids import grid_svg, search_handbook
from training.console.play import Refusal, exercise_text, public_exercise

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger(__name__)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int | None = None      # None: run to the next card


# finite numbers within what a float holds exactly: 1e999, Infinity and NaN are refused (422)
FieldValue = bool | Annotated[int, Field(ge=-2**53, le=2**53)] | float | str | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    card_id: str = Field(min_length=1, max_length=120)
    action: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    fields: dict[str, FieldValue] = Field(default_factory=dict, max_length=12)


def own_session(request: Request, session_id: int, user: User) -> dict[str, Any]:
    row = console(request).store.session(session_id)
    if row is None or row["trainee_id"] != user.id:
        raise fail(404, i18n.N_("you have no session {id}"), id=session_id)
    return row


def own_live_session(request: Request, session_id: int, user: User) -> None:
    """`own_session` for the play calls (polls, steps, decisions), which need only to know
    the session is the user's: a session's trainee never changes, so it is looked up once."""
    if console(request).trainee_of(session_id) != user.id:
        raise fail(404, i18n.N_("you have no session {id}"), id=session_id)


def session_language(request: Request, session_id: int, user: User) -> str:
    """The language of a session's pages and cards for ``user``: `language_of` with the
    class's language (kept in memory: a poll does no I/O for it)."""
    if user.lang:
        return user.lang
    c = console(request)
    cid = c.class_of_session(session_id)
    return language_of(request, user, c.class_language(cid) if cid is not None else None)


def may_see_session(request: Request, session_id: int, user: User) -> dict[str, Any]:
    """The session's trainee, or the instructor of its class; anyone else gets 404."""
    row = console(request).store.session(session_id)
    if row is None or not (row["trainee_id"] == user.id or (
            user.role == "instructor" and row["instructor_id"] == user.id)):
        raise fail(404, i18n.N_("no session {id} that you may see"), id=session_id)
    return row


async def _json(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as e:
        text = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                         for err in e.errors(include_url=False))
        raise fail(422, i18n.N_("the request was refused: {problems}"), problems=text) from None


@router.get("/trainee", response_class=HTMLResponse)
def assignments(request: Request, user: Trainee) -> Response:
    c = console(request)
    rows = c.store.assignments_of_trainee(user.id)
    langs = {c.class_language(r["class_id"]) for r in rows}    # one course: its language
    lang = language_of(request, user, langs.pop() if len(langs) == 1 else None)
    with i18n.use(lang):
        titles = {k: exercise_text(v)["title"] for k, v in c.catalogue().items()}
    return page(request, "trainee.html", lang=lang, rows=rows, titles=titles)


@router.post("/trainee/assignments/{assignment_id}/start", dependencies=[Depends(check_csrf)])
def start(request: Request, assignment_id: int, user: Trainee) -> Response:
    c = console(request)
    a = c.store.assignment(assignment_id)
    if a is None or not c.store.is_member(a["class_id"], user.id):
        raise fail(404, i18n.N_("no assignment {id} in your classes"), id=assignment_id)
    ex = c.desk.exercise(a["exercise_id"])      # refuses an exercise no longer shipped
    seed = a["seed"] if a["seed"] is not None else int(ex.seed)   # fixed now, for replays
    sid = c.store.start_session(assignment_id, user.id, a["exercise_id"], seed, 0.0)
    # build it now, so the first page shows the opening clock
    c.desk.live(sid, session_language(request, sid, user))
    return RedirectResponse(f"/sessions/{sid}", status_code=303)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def play(request: Request, session_id: int, user: Trainee) -> Response:
    c = console(request)
    row = own_session(request, session_id, user)
    if row["finished_at"] is not None:
        return RedirectResponse(f"/sessions/{session_id}/result", status_code=303)
    lang = session_language(request, session_id, user)
    lv = c.desk.live(session_id, lang)
    with i18n.use(lang):
        shown, svg = public_exercise(lv.exercise), grid_svg(lv.session.city)
    return page(request, "play.html", lang=lang, scripts=True, session_id=session_id,
                exercise=shown, map_svg=svg)


@router.get("/api/sessions/{session_id}/state")
def state(request: Request, session_id: int, user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    return JSONResponse(console(request).desk.state(
        session_id, lang=session_language(request, session_id, user)))


@router.post("/api/sessions/{session_id}/step", dependencies=[Depends(check_csrf)])
async def step(request: Request, session_id: int,
               user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    body = await _json(request, StepIn)
    lang = session_language(request, session_id, user)
    try:
        view = await run_in_threadpool(console(request).desk.step, session_id, body.minutes,
                                       lang)
        return JSONResponse(view)
    except Refusal as e:
        raise Untranslated(409 if "ended" in str(e) or "own clock" in str(e) else 422,
                           e.text(lang)) from None


@router.post("/api/sessions/{session_id}/decisions", dependencies=[Depends(check_csrf)])
async def decide(request: Request, session_id: int,
                 user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    body = await _json(request, DecisionIn)
    fields = {k: v for k, v in body.fields.items() if v not in (None, "")}
    for k, v in fields.items():
        if not k.isidentifier() or (isinstance(v, str) and len(v) > 500):
            raise fail(422, i18n.N_("fields.{field}: expected a field name and a value of at "
                                    "most 500 characters"), field=k[:40])
    lang = session_language(request, session_id, user)
    try:
        view = await run_in_threadpool(console(request).desk.decide, session_id, body.card_id,
                                       body.action, fields, lang)
    except Refusal as e:
        raise Untranslated(422, e.text(lang)) from None
    return JSONResponse(view, status_code=201)


@router.get("/api/sessions/{session_id}/handbook")
def handbook(request: Request, session_id: int, user: Trainee, q: str = "") -> Response:
    own_live_session(request, session_id, user)
    if len(q) > 100:
        raise fail(422, i18n.N_("q: expected at most 100 characters, got {n}"), n=len(q))
    lang = session_language(request, session_id, user)
    lv = console(request).desk.live(session_id, lang)
    with i18n.use(lang):
        found = search_handbook(lv.session.handbook, q, spec=lv.session.model.spec)
    return JSONResponse({"q": q, "results": found})


@router.get("/sessions/{session_id}/result", response_class=HTMLResponse)
def result(request: Request, session_id: int, user: LoggedIn) -> Response:
    c = console(request)
    row = may_see_session(request, session_id, user)
    if row["finished_at"] is None:
        if user.role == "trainee":
            return RedirectResponse(f"/sessions/{session_id}", status_code=303)
        raise fail(409, i18n.N_("{trainee} has not finished this exercise yet"),
                   trainee=row["trainee"])
    c.desk.graded(session_id)          # the grade of a session that just ended is coming
    grade = c.store.grade(session_id)
    lang = language_of(request, user, row.get("class_lang"))
    if grade is None:                  # not graded (the server stopped first): grade it now
        try:
            c.desk.regrade(session_id, lang=lang)
        except GridLoopError as e:     # the page says it is not graded
            log.warning("session %s cannot be graded: %s", session_id, e)
        grade = c.store.grade(session_id)
    ex = c.catalogue().get(row["exercise_id"])
    with i18n.use(lang):
        title = exercise_text(ex)["title"] if ex is not None else row["exercise_id"]
    return page(request, "result.html", lang=lang, row=row, grade=grade, title=title,
                log=c.store.decisions_of(session_id))
