"""The account page: the language the console speaks to this user.

An account's language is one of `sim.i18n.LANGUAGES`, or none: then the console follows the
class's language on the class's pages and otherwise the browser's (Accept-Language). A
trainee's open sessions switch with it: their cards are written again in the new language.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sim import i18n
from training.console.app import LoggedIn, check_csrf, console, fail, page

__all__ = ["router", "form_language"]

router = APIRouter()


def form_language(value: object, where: str) -> str | None:
    """A language picked in a form: one of `LANGUAGES`, or "" for none (the default)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return i18n.check_language(text, where)
    except i18n.LanguageError:
        raise fail(422, i18n.N_("{field}: expected one of {languages} or nothing (the "
                                "default), got {got}"), field=where,
                   languages=", ".join(i18n.LANGUAGES), got=repr(text[:30])) from None


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: LoggedIn) -> Response:
    browser = i18n.negotiate(request.headers.get("accept-language"))
    return page(request, "account.html", browser=browser)


@router.post("/account/language", dependencies=[Depends(check_csrf)])
async def set_language(request: Request, user: LoggedIn) -> Response:
    lang = form_language((await request.form()).get("lang"), "lang")
    c = console(request)
    c.store.set_language(user.id, lang)
    c.forget_user(user.id)
    return RedirectResponse("/account", status_code=303)
