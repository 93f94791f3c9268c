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

from sim.errors import GridLoopError
from training.console.app import LoggedIn, Trainee, check_csrf, console, fail, page
from training.console.db import User
from training.console.grids import grid_svg, search_handbook
from training.console.play import Refusal, public_exercise

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
        raise fail(404, f"you have no session {session_id}")
    return row


def own_live_session(request: Request, session_id: int, user: User) -> None:
    """`own_session` for the play calls (polls, steps, decisions), which need only to know
    the session is the user's: a session's trainee never changes, so it is looked up once."""
    if console(request).trainee_of(session_id) != user.id:
        raise fail(404, f"you have no session {session_id}")


def may_see_session(request: Request, session_id: int, user: User) -> dict[str, Any]:
    """The session's trainee, or the instructor of its class; anyone else gets 404."""
    row = console(request).store.session(session_id)
    if row is None or not (row["trainee_id"] == user.id or (
            user.role == "instructor" and row["instructor_id"] == user.id)):
        raise fail(404, f"no session {session_id} that you may see")
    return row


async def _json(request: Request, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as e:
        text = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
                         for err in e.errors(include_url=False))
        raise fail(422, text) from None


@router.get("/trainee", response_class=HTMLResponse)
def assignments(request: Request, user: Trainee) -> Response:
    c = console(request)
    rows = c.store.assignments_of_trainee(user.id)
    titles = {k: getattr(v, "title", k) for k, v in c.catalogue().items()}
    return page(request, "trainee.html", rows=rows, titles=titles)


@router.post("/trainee/assignments/{assignment_id}/start", dependencies=[Depends(check_csrf)])
def start(request: Request, assignment_id: int, user: Trainee) -> Response:
    c = console(request)
    a = c.store.assignment(assignment_id)
    if a is None or not c.store.is_member(a["class_id"], user.id):
        raise fail(404, f"no assignment {assignment_id} in your classes")
    ex = c.desk.exercise(a["exercise_id"])      # refuses an exercise no longer shipped
    seed = a["seed"] if a["seed"] is not None else int(ex.seed)   # fixed now, for replays
    sid = c.store.start_session(assignment_id, user.id, a["exercise_id"], seed, 0.0)
    c.desk.live(sid)        # build it now, so the first page shows the opening clock
    return RedirectResponse(f"/sessions/{sid}", status_code=303)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def play(request: Request, session_id: int, user: Trainee) -> Response:
    c = console(request)
    row = own_session(request, session_id, user)
    if row["finished_at"] is not None:
        return RedirectResponse(f"/sessions/{session_id}/result", status_code=303)
    lv = c.desk.live(session_id)
    return page(request, "play.html", session_id=session_id,
                exercise=public_exercise(lv.exercise), map_svg=grid_svg(lv.session.city))


@router.get("/api/sessions/{session_id}/state")
def state(request: Request, session_id: int, user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    return JSONResponse(console(request).desk.state(session_id))


@router.post("/api/sessions/{session_id}/step", dependencies=[Depends(check_csrf)])
async def step(request: Request, session_id: int,
               user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    body = await _json(request, StepIn)
    try:
        view = await run_in_threadpool(console(request).desk.step, session_id, body.minutes)
        return JSONResponse(view)
    except Refusal as e:
        raise fail(409 if "ended" in str(e) or "own clock" in str(e) else 422, str(e)) from None


@router.post("/api/sessions/{session_id}/decisions", dependencies=[Depends(check_csrf)])
async def decide(request: Request, session_id: int,
                 user: Trainee) -> Response:
    own_live_session(request, session_id, user)
    body = await _json(request, DecisionIn)
    fields = {k: v for k, v in body.fields.items() if v not in (None, "")}
    for k, v in fields.items():
        if not k.isidentifier() or (isinstance(v, str) and len(v) > 500):
            raise fail(422, f"fields.{k[:40]}: expected a field name and a value of at most "
                            f"500 characters")
    try:
        view = await run_in_threadpool(console(request).desk.decide, session_id, body.card_id,
                                       body.action, fields)
    except Refusal as e:
        raise fail(422, str(e)) from None
    return JSONResponse(view, status_code=201)


@router.get("/api/sessions/{session_id}/handbook")
def handbook(request: Request, session_id: int, user: Trainee, q: str = "") -> Response:
    own_live_session(request, session_id, user)
    if len(q) > 100:
        raise fail(422, f"q: expected at most 100 characters, got {len(q)}")
    lv = console(request).desk.live(session_id)
    return JSONResponse({"q": q, "results": search_handbook(lv.session.handbook, q)})


@router.get("/sessions/{session_id}/result", response_class=HTMLResponse)
def result(request: Request, session_id: int, user: LoggedIn) -> Response:
    c = console(request)
    row = may_see_session(request, session_id, user)
    if row["finished_at"] is None:
        if user.role == "trainee":
            return RedirectResponse(f"/sessions/{session_id}", status_code=303)
        raise fail(409, f"{row['trainee']} has not finished this exercise yet")
    c.desk.graded(session_id)          # the grade of a session that just ended is coming
    grade = c.store.grade(session_id)
    if grade is None:                  # not graded (the server stopped first): grade it now
        try:
            c.desk.regrade(session_id)
        except GridLoopError as e:     # the page says it is not graded
            log.warning("session %s cannot be graded: %s", session_id, e)
        grade = c.store.grade(session_id)
    ex = c.catalogue().get(row["exercise_id"])
    return page(request, "result.html", row=row, grade=grade,
                title=getattr(ex, "title", row["exercise_id"]),
                log=c.store.decisions_of(session_id))
