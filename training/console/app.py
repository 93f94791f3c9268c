"""The console's web app: login, roles, CSRF, and the routers of trainees and instructors.

`create_app` wires a `ConsoleStore` (the database), a `SessionDesk` (live sessions) and the
exercise catalogue into a FastAPI app with server-rendered Jinja2 pages and the package's own
JavaScript and stylesheet under ``/static``. Roles are enforced here, on the server: a page or
API call without a login gets 401, with the wrong role 403, and every POST must carry the
login's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) or it gets 403. A login
is checked against the server's record on every request (`training.console.logins`), login
attempts are throttled (`training.console.throttle`), and `training.console.guard` bounds
every request body and adds the security headers to every answer.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from sim import i18n
from sim.errors import GridLoopError
from training.console.auth import (
    Busy,
    PasswordChecks,
    new_csrf_token,
    same_token,
    verify_password,
    verify_unknown,
)
from training.console.db import ConsoleStore, User
from training.console.guard import Guard, security_headers
from training.console.language import language_of, script_messages, templates
from training.console.logins import Logins
from training.console.play import SessionDesk, TrainingCore
from training.console.throttle import LoginThrottle, Refusal

__all__ = ["create_app", "Console", "LoggedIn", "Instructor", "Trainee", "check_csrf", "page",
           "fail", "console", "language_of", "Problem", "Untranslated", "client_address",
           "MAX_ID"]

HERE = Path(__file__).resolve().parent
COOKIE = "gridloop_console"


class Console:
    """What every route needs: the store, the desk, the catalogue, the templates."""

    def __init__(self, store: ConsoleStore, core: TrainingCore | None = None) -> None:
        self.store = store
        self.core = core or TrainingCore()
        self._catalogue: dict[str, Any] | None = None
        self._reading = threading.Lock()
        self._trainees: dict[int, int] = {}
        self._users: dict[int, User] = {}
        self.desk = SessionDesk(store, self.catalogue, self.core, grade_in_background=True)
        self.templates = templates(HERE / "templates")
        self._class_of: dict[int, int] = {}
        self._class_lang: dict[int, str | None] = {}
        for lang in i18n.LANGUAGES:     # compile the catalogues now, not in a trainee's request
            script_messages(HERE / "static", lang)
        self.logins = Logins(store.engine)
        self.throttle = LoginThrottle(record=self.logins.record_lockout)
        self.checks = PasswordChecks()

    def user(self, user_id: int) -> User | None:
        """An account by id, read from the database once: accounts are added and their
        passwords reset, never removed nor given another role, so who a login is does not
        change (kept without the password hash, which only logging in reads)."""
        got = self._users.get(user_id)
        if got is None:
            got = self.store.user(user_id)
            if got is None:
                return None
            got = self._users[user_id] = dataclasses.replace(got, password_hash="")
        return got

    def logged_in(self, token: str, user_id: int) -> User | None:
        """The account of a live login token (None: ended, expired, or another account's)."""
        if self.logins.user_of(token) != user_id:
            return None
        return self.known_user(user_id) or self.user(user_id)

    def forget_user(self, user_id: int) -> None:
        """Read the account again next time (its language changed)."""
        self._users.pop(user_id, None)

    def class_language(self, class_id: int) -> str | None:
        """The class's language (None: each trainee's own), read once, kept until changed."""
        if class_id not in self._class_lang:
            row = self.store.class_(class_id)
            self._class_lang[class_id] = row["lang"] if row else None
        return self._class_lang[class_id]

    def set_class_language(self, class_id: int, lang: str | None) -> None:
        self.store.set_class_language(class_id, lang)
        self._class_lang[class_id] = lang

    def class_of_session(self, session_id: int) -> int | None:
        """The class a session was assigned in (fixed when it starts, so kept once read)."""
        got = self._class_of.get(session_id)
        if got is None:
            row = self.store.session(session_id)
            if row is None:
                return None
            got = self._class_of[session_id] = int(row["class_id"])
        return got

    def known_user(self, user_id: int) -> User | None:
        """`user` if it has been read already (no I/O: for the event loop), else None."""
        return self._users.get(user_id)

    def trainee_of(self, session_id: int) -> int | None:
        """The trainee a session belongs to (None: no such session). Fixed when the session
        is started and never changed, so kept once read."""
        got = self._trainees.get(session_id)
        if got is None:
            row = self.store.session(session_id)
            if row is None:
                return None
            got = self._trainees[session_id] = int(row["trainee_id"])
        return got

    def catalogue(self) -> dict[str, Any]:
        got = self._catalogue
        if got is None:
            with self._reading:         # read once, also when a class starts together
                if self._catalogue is None:
                    self._catalogue = self.core.catalogue()
                got = self._catalogue
        return got

    def reload_catalogue(self) -> dict[str, Any]:
        with self._reading:
            self._catalogue = None
        return self.catalogue()


def console(request: Request) -> Console:
    return request.app.state.console


class Problem(Exception):
    """An HTTP error shown as a page (or JSON under /api) with a message for a person:
    ``message`` is the English text with ``{name}`` fields filled from ``args``, translated
    into the reader's language when the answer is written."""

    def __init__(self, status: int, message: str, **args: Any) -> None:
        self.status, self.said = status, i18n.Message(message, **args)
        super().__init__(str(self.said))

    @property
    def message(self) -> str:
        """The message in English."""
        return str(self.said)

    def text(self, lang: str) -> str:
        return self.said.text(lang)


class Untranslated(Problem):
    """A `Problem` whose text is already written (a library's error): shown as it is."""

    def text(self, lang: str) -> str:
        return self.said.text_


def fail(status: int, message: str, **args: Any) -> Problem:
    """A `Problem`: ``message`` is marked for the catalogue where it is written."""
    return Problem(status, message, **args)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def page(request: Request, template: str, status: int = 200, *, lang: str | None = None,
         scripts: bool = False, **context: Any) -> HTMLResponse:
    """Render ``template`` in ``lang`` (default: `language_of` the logged-in user); with
    ``scripts`` the page carries the JSON catalogue its JavaScript reads."""
    c = console(request)
    user = getattr(request.state, "user", None)
    lang = lang or language_of(request, user)
    extra = {"js_messages": script_messages(HERE / "static", lang)} if scripts else {}
    with i18n.use(lang):        # rendering happens here, in this thread
        return c.templates.TemplateResponse(request, template, {
            "user": user, "csrf": csrf_token(request), "lang": lang,
            "languages": i18n.LANGUAGES, **extra, **context}, status_code=status)


async def current_user(request: Request) -> User:
    uid, token = request.session.get("uid"), request.session.get("login")
    c = console(request)
    user = None
    if isinstance(uid, int) and isinstance(token, str):
        # the login must still be on the server: logout, a new password or an instructor
        # ends it there, and the cookie (even a copy) stops working at once
        if c.logins.cached_user_of(token) == uid:          # found live a moment ago
            user = c.known_user(uid)
        if user is None:
            user = await run_in_threadpool(c.logged_in, token, uid)
    if user is None:
        if uid is not None:
            request.session.clear()
        raise Problem(401, i18n.N_("please log in"))
    request.state.user = user
    return user


def client_address(request: Request) -> str:
    """The client's address (behind a trusted proxy, the one it forwards)."""
    return request.client.host if request.client else "unknown"


LoggedIn = Annotated[User, Depends(current_user)]


# role checks do no I/O, so they run on the event loop (a sync one is a trip to a thread)
async def require_instructor(user: LoggedIn) -> User:
    if user.role != "instructor":
        raise Problem(403, i18n.N_("this page is for instructors; you are logged in as a "
                                   "trainee"))
    return user


async def require_trainee(user: LoggedIn) -> User:
    if user.role != "trainee":
        raise Problem(403, i18n.N_("this page is for trainees; you are logged in as an "
                                   "instructor"))
    return user


Instructor = Annotated[User, Depends(require_instructor)]
Trainee = Annotated[User, Depends(require_trainee)]


async def check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get("csrf")
    if not same_token(expected, given if isinstance(given, str) else None):
        raise Problem(403, i18n.N_("the form's security token is missing or out of date: "
                                   "reload the page and try again"))


def _problem_response(request: Request, exc: Problem) -> Response:
    lang = language_of(request, getattr(request.state, "user", None))
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
            "accept", ""):
        return JSONResponse({"error": exc.text(lang)}, status_code=exc.status)
    if exc.status == 401:
        return page(request, "login.html", status=401, error=None, lang=lang,
                    next=request.url.path if request.method == "GET" else "/")
    return page(request, "problem.html", status=exc.status, message=exc.text(lang), lang=lang)


HTTP_DETAILS = (i18n.N_("Not Found"), i18n.N_("Method Not Allowed"))


def create_app(store: ConsoleStore, secret: str, *, core: TrainingCore | None = None,
               https_only: bool = False) -> FastAPI:
    """The console app on ``store``; ``secret`` signs the login cookie; ``core`` is the
    training core (exercises, sessions, grading), `TrainingCore` unless a test gives one."""
    from training.console import access, account, instructor, trainee

    app = FastAPI(title="GridLoop training console", docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(ids_in_range)])
    app.state.console = Console(store, core)
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE,
                       same_site="strict", https_only=https_only, max_age=12 * 3600)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_exception_handler(Problem, _problem_response)

    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        # Starlette's own details ("Not Found", "Method Not Allowed") are in the catalogue
        return _problem_response(request, Problem(exc.status_code, str(exc.detail)))
    app.add_exception_handler(HTTPException, _http)

    async def _user_error(request: Request, exc: Exception) -> Response:
        return _problem_response(request, Untranslated(422, str(exc)))
    app.add_exception_handler(GridLoopError, _user_error)

    async def _validation(request: Request, exc: Exception) -> Response:
        errors = getattr(exc, "errors", lambda: [])()
        text = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                         f"{e.get('msg', 'invalid')}" for e in errors) or "invalid request"
        return _problem_response(request, Untranslated(422, text))
    from fastapi.exceptions import RequestValidationError
    app.add_exception_handler(RequestValidationError, _validation)

    async def _crash(request: Request, exc: Exception) -> Response:
        # written by Starlette outside every middleware: the headers are added here
        return Response("the console met an unexpected error; it is logged\n", 500,
                        headers=security_headers(request.url.scheme == "https"),
                        media_type="text/plain")
    app.add_exception_handler(Exception, _crash)

    # outermost: refuses big bodies unread, adds the security headers, marks cookies Secure
    app.add_middleware(Guard)

    @app.get("/", include_in_schema=False)
    def home(user: LoggedIn) -> Response:
        return RedirectResponse("/instructor" if user.role == "instructor" else "/trainee",
                                status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/", lang: str = "") -> Response:
        if lang:          # the language links of the login page; kept through the login
            request.session["lang"] = i18n.check_language(lang, "lang")
        return page(request, "login.html", error=None, next=_safe_next(next))

    @app.post("/login", dependencies=[Depends(check_csrf)])
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        nxt = _safe_next(str(form.get("next", "/")))
        if len(password) > 1024 or len(name) > 64:
            return page(request, "login.html", status=422, next=nxt,
                        error=i18n.N_("name: at most 64 characters; password: at most 1024"))
        c, address = console(request), client_address(request)
        refused = c.throttle.refusal(name, address)
        if refused is not None:        # locked out: not even checked
            return _throttled(request, refused, nxt)
        user = c.store.user_by_name(name) if name else None
        # Argon2 takes tens of milliseconds on purpose: off the event loop, on threads of its
        # own that take each client's checks in turn (a flood cannot starve other clients)
        try:
            ok = await c.checks.run(address, verify_password, user.password_hash, password) \
                if user else await c.checks.run(address, verify_unknown, password)
        except Busy:
            return _throttled(request, Refusal("address", address, 5.0), nxt)
        if not (user and ok):
            await run_in_threadpool(c.throttle.failed, name, address)
            return page(request, "login.html", status=401, next=nxt,
                        error=i18n.N_("unknown name or wrong password"))
        c.throttle.succeeded(name)
        token = await run_in_threadpool(c.logins.start, user.id, address)
        chosen = request.session.get("lang")
        request.session.clear()
        if chosen:
            request.session["lang"] = chosen
        request.session["uid"] = user.id
        request.session["login"] = token                # checked on the server each request
        request.session["csrf"] = new_csrf_token()      # a fresh token for the new login
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> Response:
        token = request.session.get("login")
        if isinstance(token, str):
            console(request).logins.end(token)          # a copy of the cookie ends too
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    app.include_router(account.router)
    app.include_router(trainee.router)
    app.include_router(instructor.router)
    app.include_router(access.router)
    return app


_THROTTLED = {"account": i18n.N_("too many failed logins for this account: try again in "
                                  "{seconds} s"),
              "address": i18n.N_("too many failed logins from your address: try again in "
                                 "{seconds} s")}


def _throttled(request: Request, refused: Refusal, nxt: str) -> Response:
    wait = max(1, round(refused.retry_after))
    lang = language_of(request)
    response = page(request, "login.html", status=429, next=nxt, lang=lang,
                    error=i18n.translate(_THROTTLED[refused.kind], lang).format(seconds=wait))
    response.headers["Retry-After"] = str(wait)
    return response


MAX_ID = 2**63 - 1      # ids and seeds are 64-bit in the database


async def ids_in_range(request: Request) -> None:
    """Every whole-number path parameter (class, session, assignment ids) fits the
    database's 64-bit ids: a bigger one is a 422 here, not an overflow (500) in the driver."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii() \
                and (len(value) > 20 or abs(int(value)) > MAX_ID):
            raise Problem(422, i18n.N_("{name}: expected a whole number up to {most}, got "
                                       "{got}"), name=name, most=MAX_ID,
                          got=value[:30] + ("..." if len(value) > 30 else ""))


def _safe_next(target: str) -> str:
    """Only same-site paths, so the login form cannot redirect to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
