"""The instructor's access page: lock-outs after failed logins, and ending trainees' logins.

Lock-outs (`training.console.throttle`) are listed for every instructor: a trainee who
cannot get in, or someone guessing passwords, shows up here with the account or address,
how many failures and until when. An instructor ends the logins of the trainees of a class
they own, or of one of those trainees (a shared computer, a lost phone): the next request
of any copy of their cookies gets 401.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sim import i18n
from training.console.app import Instructor, check_csrf, console, fail, page

__all__ = ["router"]

router = APIRouter()


@router.get("/instructor/access", response_class=HTMLResponse)
def access(request: Request, user: Instructor, ended: int | None = None) -> Response:
    c = console(request)
    classes = c.store.classes_of(user.id)
    return page(request, "access.html", lockouts=c.logins.recent_lockouts(),
                classes=classes, ended=ended)


@router.post("/instructor/access/end", dependencies=[Depends(check_csrf)])
async def end_logins(request: Request, user: Instructor) -> Response:
    """End the logins of a class's trainees (form: ``class``), or of one of them (form:
    ``class`` and ``trainee``)."""
    c = console(request)
    form = await request.form()
    class_id = str(form.get("class", ""))
    if not class_id.isascii() or not class_id.isdigit() or len(class_id) > 18:
        raise fail(422, i18n.N_("class: expected one of your classes, got {got}"),
                   got=repr(class_id[:30]))
    klass = c.store.class_(int(class_id))
    if klass is None or klass["instructor_id"] != user.id:
        raise fail(404, i18n.N_("you have no class {id}"), id=class_id)
    members = c.store.members_of(klass["id"])
    name = str(form.get("trainee", "")).strip()
    if name:
        members = [m for m in members if m.name == name]
        if not members:
            raise fail(422, i18n.N_("trainee: expected a trainee of {name}, got {got}"),
                       name=klass["name"], got=repr(name[:64]))
    ended = c.logins.end_users(m.id for m in members)
    return RedirectResponse(f"/instructor/access?ended={ended}", status_code=303)
