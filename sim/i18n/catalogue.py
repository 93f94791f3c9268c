"""Which language is in force, and the gettext catalogues that translate into it.

English is the source language: a message is its own English text, so English needs no
catalogue. Every other language has a ``.po`` file under ``locale/`` (committed, edited by
people, kept in step with the code by ``make catalogues``); the first time a language is
used its ``.po`` is compiled in memory with Babel into a standard gettext catalogue, so an
editable install, a wheel and CI all work without a compile step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from sim.errors import GridLoopError

__all__ = ["LANGUAGES", "DEFAULT", "DOMAIN", "ENV", "LOCALE_DIR", "LanguageError", "N_", "_",
           "gettext", "ngettext", "translate", "check_language", "negotiate", "current", "use",
           "js_catalogue", "po_file", "local_name", "Message"]

LANGUAGES: dict[str, str] = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
ENV = "GRIDLOOP_LANG"           # the CLI's language when --lang is not given
DOMAIN = "gridloop"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_FOLDER = {"zh-CN": "zh_CN"}    # gettext's folder name of each translated language
# other spellings people and browsers use for the same languages
_ALIASES = {"zh": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN",
            "chinese": "zh-CN", "english": "en"}

log = logging.getLogger(__name__)
_lang: ContextVar[str] = ContextVar("gridloop_language", default=DEFAULT)


class LanguageError(GridLoopError):
    """A language GridLoop does not have, named where it was given."""


def _normal(text: str) -> str | None:
    key = text.strip().replace("_", "-").lower()
    for lang in LANGUAGES:
        if key == lang.lower():
            return lang
    if key in _ALIASES:
        return _ALIASES[key]
    if key.startswith("en-"):
        return "en"
    return None


def check_language(text: str, where: str = "--lang") -> str:
    """``text`` as one of `LANGUAGES` (``zh_CN``, ``zh-cn`` and ``zh`` read as ``zh-CN``).

    Raises:
        LanguageError: ``WHERE: expected one of en (English), zh-CN (简体中文), got 'fr'``.
    """
    got = _normal(str(text))
    if got is None:
        have = ", ".join(f"{k} ({v})" for k, v in LANGUAGES.items())
        raise LanguageError(f"{where}: expected one of {have}, got {text!r}")
    return got


def negotiate(accept_language: str | None) -> str:
    """The language of `LANGUAGES` a browser's ``Accept-Language`` header prefers most
    (`DEFAULT` when it names none of them)."""
    best, best_q = DEFAULT, 0.0
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = _normal(tag) or (_normal(tag.split("-")[0]) if "-" in tag else None)
        q -= i * 1e-6                 # equal weights: the first listed wins
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best


def current() -> str:
    """The language in force here (set by `use`; `DEFAULT` otherwise)."""
    return _lang.get()


@contextmanager
def use(lang: str | None) -> Iterator[str]:
    """Make ``lang`` the language in force inside the block (None: leave it as it is)."""
    if lang is None:
        yield current()
        return
    token = _lang.set(check_language(lang))
    try:
        yield _lang.get()
    finally:
        _lang.reset(token)


# -- catalogues ---------------------------------------------------------------------------------
def po_file(lang: str) -> Path:
    """The catalogue source of a translated language."""
    return LOCALE_DIR / _FOLDER[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


_missed: set[tuple[str, str]] = set()
_loading = threading.Lock()
_catalogues: dict[str, dict] = {}


def _note_missing(lang: str, message: str) -> None:
    key = (lang, message)
    if key not in _missed:
        _missed.add(key)
        log.warning("no %s translation of %r: shown in English", lang, message)


def _catalogue(lang: str) -> dict:
    """The compiled catalogue of ``lang``: msgid (or (msgid, plural index)) -> text."""
    got = _catalogues.get(lang)
    if got is None:
        with _loading:
            got = _catalogues.get(lang)
            if got is None:
                got = _catalogues[lang] = _compile(lang)
    return got


def _compile(lang: str) -> dict:
    """Read the ``.po`` with Babel and compile it (as ``msgfmt`` would) into a gettext
    catalogue in memory. Fuzzy and empty entries are left out: they show in English."""
    import gettext as _gettext

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = po_file(lang)
    try:
        with path.open("rb") as f:
            po = read_po(f, locale=_FOLDER[lang], domain=DOMAIN)
    except OSError as e:
        log.warning("cannot read the %s catalogue %s (%s): shown in English", lang, path,
                    e.strerror)
        return {}
    buf = BytesIO()
    write_mo(buf, po, use_fuzzy=False)
    buf.seek(0)
    compiled = _gettext.GNUTranslations(buf)
    out = dict(compiled._catalog)             # type: ignore[attr-defined]
    out.pop("", None)                         # the header
    out["__plural__"] = compiled.plural       # type: ignore[attr-defined]
    return out


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang`` (English, logged once, when the catalogue lacks it)."""
    if lang == DEFAULT or not message:
        return message
    got = _catalogue(lang).get(message)
    if got is None:
        _note_missing(lang, message)
        return message
    return got


def gettext(message: str) -> str:
    """``message`` in the language in force."""
    return translate(message, _lang.get())


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n``, in the language in force."""
    lang = _lang.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    cat = _catalogue(lang)
    index = cat["__plural__"](n) if "__plural__" in cat else int(n != 1)
    got = cat.get((singular, index))
    if got is None:
        _note_missing(lang, singular)
        return singular if n == 1 else plural
    return got


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it (translated where shown)."""
    return message


def js_catalogue(lang: str, messages: Iterable[str]) -> dict[str, str]:
    """``messages`` and their translations in ``lang``: what a page's script needs."""
    return {m: translate(m, lang) for m in messages}


def local_name(english: str, chinese: str | None, lang: str | None = None) -> str:
    """A name the data gives in both languages (``name`` / ``name_zh`` of a subclass,
    department or class): the Chinese one in Chinese when there is one, else the English."""
    if (lang or _lang.get()) == "zh-CN" and chinese:
        return chinese
    return english


class Message:
    """A message to write in its reader's language later: the English text (the msgid, marked
    with `N_` where it is written) and the values of its ``{name}`` fields. ``str()`` of it
    is the English."""

    __slots__ = ("text_", "fields")

    def __init__(self, text: str, **fields: object) -> None:
        self.text_, self.fields = text, fields

    def text(self, lang: str) -> str:
        got = translate(self.text_, lang)
        return got.format(**self.fields) if self.fields else got

    def __str__(self) -> str:
        return self.text(DEFAULT)
