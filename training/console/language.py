"""The console's languages: which one a page is shown in, and the templates' and scripts'
catalogues.

A page is shown in the account's own language, else the class's (on a class's pages and its
trainees' desks), else the one picked on the login page, else the browser's
(Accept-Language), else English (`language_of`). Templates go through Jinja2's i18n
extension with the language in force (`sim.i18n.use`, set by ``page`` while rendering); the
hand-written scripts read a JSON catalogue of the messages they mark with ``_()``
(`script_messages`), which the page carries.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from sim import i18n

__all__ = ["language_of", "templates", "script_messages", "FILTERS"]


def language_of(request: Request, user: Any = None, class_lang: str | None = None) -> str:
    """The language of a page for ``user`` (None: not logged in) on a class's page or desk
    (``class_lang``: the class's language, or None)."""
    if user is not None and getattr(user, "lang", None):
        return str(user.lang)
    if class_lang:
        return class_lang
    chosen = request.session.get("lang")
    if isinstance(chosen, str) and chosen in i18n.LANGUAGES:
        return chosen
    return i18n.negotiate(request.headers.get("accept-language"))


def _words(table: str) -> Callable[[Any], str]:
    def shown(code: Any) -> str:
        from training import wording

        return wording.label(getattr(wording, table), code)
    return shown


def _numeric(write: Callable[..., str]) -> Callable[..., str]:
    """A number as the language writes it; anything else (nothing, text) as it is."""
    def shown(x: Any, *args: Any) -> str:
        if isinstance(x, bool) or not isinstance(x, int | float):
            return "" if x is None or isinstance(x, jinja2.Undefined) else str(x)
        return write(x, *args)
    return shown


# numbers and the sandbox's fixed words as the language in force writes them
FILTERS: dict[str, Callable[..., str]] = {
    "decimal": _numeric(lambda x, digits=1: i18n.format_decimal(x, digits)),
    "number": _numeric(lambda x: i18n.format_number(round(x, 4))),
    "action": _words("ACTIONS"), "severity": _words("SEVERITY"),
}


def templates(folder: Path) -> Jinja2Templates:
    """The console's templates with Jinja2's i18n extension, translated by the language in
    force, and `FILTERS`."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext,  # type: ignore[attr-defined]
                                  newstyle=True)
    env.filters.update(FILTERS)
    return Jinja2Templates(env=env)


_scripts: dict[tuple[str, str], dict[str, str]] = {}


def script_messages(folder: Path, lang: str) -> dict[str, str]:
    """The catalogue of the scripts in ``folder`` in ``lang``: every message they mark with
    ``_()`` (found with Babel's JavaScript extractor, as `make catalogues` finds them) and
    its translation. Read once per language."""
    key = (str(folder), lang)
    got = _scripts.get(key)
    if got is None:
        from babel.messages.extract import extract_javascript

        ids: list[str] = []
        for path in sorted(folder.glob("*.js")):
            with path.open("rb") as f:
                ids += [m if isinstance(m, str) else m[0]
                        for _line, _fn, m, _c in extract_javascript(f, ["_"], [], {})]
        got = _scripts[key] = i18n.js_catalogue(lang, dict.fromkeys(ids))
    return got
