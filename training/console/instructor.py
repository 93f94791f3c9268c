"""The instructor's pages: classes, members, assignments, live progress, grades, export.

An instructor reaches only the classes they own: `own_class` answers 404 for any other, so
class ids reveal nothing. Forms are validated field by field and a refusal names the field,
what was expected and what was given.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sim import i18n
from sim.errors import GridLoopError
from sim.outputs.csvcells import safe_row
from training.console.account import form_language
from training.console.app import Instructor, check_csrf, console, fail, language_of, page
from training.console.db import User
from training.console.guard import attachment
from training.console.play import exercise_text, to_plain

__all__ = ["router", "gradebook_csv"]

router = APIRouter()
MAX_SEED = 2**63 - 1


def own_class(request: Request, class_id: int, user: User) -> dict[str, Any]:
    row = console(request).store.class_(class_id)
    if row is None or row["instructor_id"] != user.id:
        raise fail(404, i18n.N_("you have no class {id}"), id=class_id)
    return row


def _text(form: Any, name: str, max_len: int = 120) -> str:
    value = str(form.get(name, "")).strip()
    if not value:
        raise fail(422, i18n.N_("{field}: expected a value, got nothing"), field=name)
    if len(value) > max_len:
        raise fail(422, i18n.N_("{field}: expected at most {most} characters, got {n}"),
                   field=name, most=max_len, n=len(value))
    return value


def _progress(request: Request, class_id: int) -> list[dict[str, Any]]:
    rows = console(request).store.sessions_of_class(class_id)
    return [{"session_id": r["id"], "trainee": r["trainee"], "exercise_id": r["exercise_id"],
             "sim_now": r["sim_now"], "decisions": r["n_decisions"],
             "finished": r["finished_at"] is not None, "score": r["score"],
             "letter": r["letter"]} for r in rows]


@router.get("/instructor", response_class=HTMLResponse)
def classes(request: Request, user: Instructor) -> Response:
    return page(request, "instructor.html", classes=console(request).store.classes_of(user.id))


@router.post("/instructor/classes", dependencies=[Depends(check_csrf)])
async def add_class(request: Request, user: Instructor) -> Response:
    form = await request.form()
    name = _text(form, "name")
    lang = form_language(form.get("lang"), "lang")
    c = console(request)
    try:
        cid = c.store.add_class(user.id, name)
    except GridLoopError:
        raise fail(422, i18n.N_("you already have a class named {name}"),
                   name=repr(name)) from None
    if lang:
        c.set_class_language(cid, lang)
    return RedirectResponse(f"/instructor/classes/{cid}", status_code=303)


@router.get("/instructor/classes/{class_id}", response_class=HTMLResponse)
def class_page(request: Request, class_id: int,
               user: Instructor) -> Response:
    c = console(request)
    klass = own_class(request, class_id, user)
    lang = language_of(request, user, klass["lang"])
    with i18n.use(lang):
        catalogue = {k: exercise_text(v) for k, v in c.catalogue().items()}
    return page(request, "class.html", lang=lang, scripts=True, klass=klass,
                members=c.store.members_of(class_id),
                assignments=c.store.assignments_of_class(class_id),
                catalogue=catalogue, progress=_progress(request, class_id))


@router.post("/instructor/classes/{class_id}/language", dependencies=[Depends(check_csrf)])
async def class_language(request: Request, class_id: int, user: Instructor) -> Response:
    """The language the class's trainees play in (those who chose none on their account)."""
    own_class(request, class_id, user)
    lang = form_language((await request.form()).get("lang"), "lang")
    console(request).set_class_language(class_id, lang)
    return RedirectResponse(f"/instructor/classes/{class_id}", status_code=303)


@router.get("/api/classes/{class_id}/progress")
def progress(request: Request, class_id: int,
             user: Instructor) -> Response:
    own_class(request, class_id, user)
    return JSONResponse({"class_id": class_id, "sessions": _progress(request, class_id)})


@router.post("/instructor/classes/{class_id}/members", dependencies=[Depends(check_csrf)])
async def add_member(request: Request, class_id: int,
                     user: Instructor) -> Response:
    own_class(request, class_id, user)
    store = console(request).store
    name = _text(await request.form(), "trainee", 64)
    trainee = store.user_by_name(name)
    if trainee is None or trainee.role != "trainee":
        raise fail(422, i18n.N_("trainee: expected the name of a trainee account, got {name} "
                                "(add accounts with `gridloop users add NAME --role "
                                "trainee`)"), name=repr(name))
    store.add_member(class_id, trainee.id)
    return RedirectResponse(f"/instructor/classes/{class_id}", status_code=303)


@router.post("/instructor/classes/{class_id}/assignments", dependencies=[Depends(check_csrf)])
async def assign(request: Request, class_id: int,
                 user: Instructor) -> Response:
    own_class(request, class_id, user)
    c = console(request)
    form = await request.form()
    exercise_id = _text(form, "exercise")
    if exercise_id not in c.catalogue():
        raise fail(422, i18n.N_("exercise: expected one of {ids}, got {got}"),
                   ids=", ".join(sorted(c.catalogue())), got=repr(exercise_id))
    seed_text = str(form.get("seed", "")).strip()
    seed: int | None = None
    if seed_text:
        if not re.fullmatch(r"[0-9]{1,19}", seed_text) or int(seed_text) > MAX_SEED:
            raise fail(422, i18n.N_("seed: expected a whole number from 0 to {most} or nothing "
                                    "(the exercise's own seed), got {got}"),
                       most=MAX_SEED, got=repr(seed_text[:30]))
        seed = int(seed_text)
    try:
        c.store.assign(class_id, exercise_id, seed)
    except GridLoopError:
        raise fail(422, i18n.N_("exercise {id} is already assigned to this class"),
                   id=repr(exercise_id)) from None
    return RedirectResponse(f"/instructor/classes/{class_id}", status_code=303)


@router.post("/instructor/classes/{class_id}/regrade", dependencies=[Depends(check_csrf)])
def regrade(request: Request, class_id: int,
            user: Instructor) -> Response:
    """Grade every finished session again under the exercises' rubrics as they are now."""
    own_class(request, class_id, user)
    c = console(request)
    c.reload_catalogue()
    for r in c.store.sessions_of_class(class_id):
        if r["finished_at"] is not None:
            c.desk.regrade(r["id"])         # from the stored record, under today's rubric
    return RedirectResponse(f"/instructor/classes/{class_id}", status_code=303)


@router.get("/instructor/exercises", response_class=HTMLResponse)
def exercises(request: Request, user: Instructor) -> Response:
    lang = language_of(request, user)
    with i18n.use(lang):
        items = {k: {"plain": to_plain(v), "shown": exercise_text(v)}
                 for k, v in sorted(console(request).catalogue().items())}
    return page(request, "exercises.html", lang=lang, items=items)


def gradebook_csv(class_name: str, rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["class", "trainee", "exercise", "status", "decisions", "sim_minutes",
                "score", "letter"])
    for r in rows:
        status = "graded" if r["score"] is not None else (
            "finished" if r["finished"] else "in progress")
        w.writerow(safe_row([class_name, r["trainee"], r["exercise_id"], status,
                             r["decisions"], f"{r['sim_now']:.0f}",
                             "" if r["score"] is None else f"{r['score']:.1f}",
                             r["letter"] or ""]))
    return out.getvalue()


@router.get("/instructor/classes/{class_id}/grades.csv")
def export(request: Request, class_id: int,
           user: Instructor) -> Response:
    klass = own_class(request, class_id, user)
    text = gradebook_csv(klass["name"], _progress(request, class_id))
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": attachment(f"gradebook-{klass['name']}.csv")})
