"""The console's web app: login, roles, CSRF, and the routers of trainees and instructors.

`create_app` wires a `ConsoleStore` (the database), a `SessionDesk` (live sessions) and the
exercise catalogue into a FastAPI app with server-rendered Jinja2 pages and the package's own
JavaScript and stylesheet under ``/static``. Roles are enforced here, on the server: a page or
API call without a login gets 401, with the wrong role 403, and every POST must carry the
login's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) or it gets 403.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from sim.errors import GridLoopError
from training.console.auth import new_csrf_token, same_token, verify_password, verify_unknown
from training.console.db import ConsoleStore, User
from training.console.play import SessionDesk, TrainingCore

__all__ = ["create_app", "Console", "LoggedIn", "Instructor", "Trainee", "check_csrf", "page",
           "fail", "console"]

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
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

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
    """An HTTP error shown as a page (or JSON under /api) with a message for a person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def fail(status: int, message: str) -> Problem:
    return Problem(status, message)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    c = console(request)
    user = getattr(request.state, "user", None)
    return c.templates.TemplateResponse(request, template, {
        "user": user, "csrf": csrf_token(request), **context}, status_code=status)


async def current_user(request: Request) -> User:
    uid = request.session.get("uid")
    c = console(request)
    user = c.known_user(uid) if isinstance(uid, int) else None
    if user is None and isinstance(uid, int):
        user = await run_in_threadpool(c.user, uid)
    if user is None:
        raise Problem(401, "please log in")
    request.state.user = user
    return user


LoggedIn = Annotated[User, Depends(current_user)]


# role checks do no I/O, so they run on the event loop (a sync one is a trip to a thread)
async def require_instructor(user: LoggedIn) -> User:
    if user.role != "instructor":
        raise Problem(403, "this page is for instructors; you are logged in as a trainee")
    return user


async def require_trainee(user: LoggedIn) -> User:
    if user.role != "trainee":
        raise Problem(403, "this page is for trainees; you are logged in as an instructor")
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
        raise Problem(403, "the form's security token is missing or out of date: "
                           "reload the page and try again")


def _problem_response(request: Request, exc: Problem) -> Response:
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
            "accept", ""):
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    if exc.status == 401:
        return page(request, "login.html", status=401, error=None,
                    next=request.url.path if request.method == "GET" else "/")
    return page(request, "problem.html", status=exc.status, message=exc.message)


HEADERS = (
    (b"content-security-policy", b"default-src 'self'; style-src 'self'; script-src 'self'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


class SecurityHeaders:
    """Every response gets `HEADERS` unless it set them itself (a plain ASGI middleware:
    Starlette's ``@app.middleware("http")`` runs each request through extra tasks and
    streams, a few milliseconds a request under load)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()),
                                      *((k, v) for k, v in HEADERS if k not in have)]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(store: ConsoleStore, secret: str, *, core: TrainingCore | None = None,
               https_only: bool = False) -> FastAPI:
    """The console app on ``store``; ``secret`` signs the login cookie; ``core`` is the
    training core (exercises, sessions, grading), `TrainingCore` unless a test gives one."""
    from training.console import instructor, trainee

    app = FastAPI(title="GridLoop training console", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.console = Console(store, core)
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE,
                       same_site="strict", https_only=https_only, max_age=12 * 3600)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_exception_handler(Problem, _problem_response)

    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _problem_response(request, Problem(exc.status_code, str(exc.detail)))
    app.add_exception_handler(HTTPException, _http)

    async def _user_error(request: Request, exc: Exception) -> Response:
        return _problem_response(request, Problem(422, str(exc)))
    app.add_exception_handler(GridLoopError, _user_error)

    async def _validation(request: Request, exc: Exception) -> Response:
        errors = getattr(exc, "errors", lambda: [])()
        text = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: "
                         f"{e.get('msg', 'invalid')}" for e in errors) or "invalid request"
        return _problem_response(request, Problem(422, text))
    from fastapi.exceptions import RequestValidationError
    app.add_exception_handler(RequestValidationError, _validation)

    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def home(user: LoggedIn) -> Response:
        return RedirectResponse("/instructor" if user.role == "instructor" else "/trainee",
                                status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        return page(request, "login.html", error=None, next=_safe_next(next))

    @app.post("/login", dependencies=[Depends(check_csrf)])
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        nxt = _safe_next(str(form.get("next", "/")))
        if len(password) > 1024 or len(name) > 64:
            return page(request, "login.html", status=422, next=nxt,
                        error="name: at most 64 characters; password: at most 1024")
        user = console(request).store.user_by_name(name) if name else None
        # Argon2 takes tens of milliseconds on purpose: off the event loop
        ok = await run_in_threadpool(verify_password, user.password_hash, password) if user \
            else await run_in_threadpool(verify_unknown, password)
        if not (user and ok):
            return page(request, "login.html", status=401, next=nxt,
                        error="unknown name or wrong password")
        request.session.clear()
        request.session["uid"] = user.id
        request.session["csrf"] = new_csrf_token()      # a fresh token for the new login
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    app.include_router(trainee.router)
    app.include_router(instructor.router)
    return app


def _safe_next(target: str) -> str:
    """Only same-site paths, so the login form cannot redirect to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
