"""What the console does to every request and response, before and after its routes.

`Guard` is one plain ASGI middleware, outermost, so it also covers the answers Starlette
writes itself (a crash's 500, a 413): it refuses a request body over `MAX_BODY` before
reading it (at once when ``Content-Length`` says so, else as soon as the streamed body
passes the limit), adds the security headers (`HEADERS`) to every response, and marks
cookies ``Secure`` whenever the request came over HTTPS (directly, or through a proxy
uvicorn trusts that says so in ``X-Forwarded-Proto``). `attachment` names a download
per RFC 6266, so a class named in Chinese can export its gradebook.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

__all__ = ["Guard", "HEADERS", "MAX_BODY", "BodyTooLarge", "attachment",
           "security_headers"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The largest body any route takes: a login, a class form, a decision (twelve fields of at
# most 500 characters) are a few kilobytes; nothing is uploaded.
MAX_BODY = 64 * 1024

HEADERS = (
    (b"content-security-policy", b"default-src 'self'; style-src 'self'; script-src 'self'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000")


class BodyTooLarge(Exception):
    """A streamed request body passed `MAX_BODY` (raised from ``receive``)."""


def _too_large_body(limit: int) -> bytes:
    return (f"request body too large: at most {limit:,} bytes\n").encode()


class Guard:
    """Body limit, security headers and ``Secure`` cookies around an ASGI app."""

    def __init__(self, app: Callable, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"
        started = False

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _with_headers(list(message.get("headers", ())), secure)
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body:      # refused unread
            log.warning("refused a %s-byte body to %s %s from %s", f"{length:,}",
                        scope.get("method"), scope.get("path"), _client(scope))
            await _answer(send_guarded, 413, _too_large_body(self.max_body))
            return
        seen = 0

        async def receive_counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(f"more than {self.max_body:,} bytes")
            return message

        try:
            await self.app(scope, receive_counted, send_guarded)
        except BodyTooLarge:
            log.warning("refused a streamed body over %s bytes to %s %s from %s",
                        f"{self.max_body:,}", scope.get("method"), scope.get("path"),
                        _client(scope))
            if not started:
                await _answer(send_guarded, 413, _too_large_body(self.max_body))


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def _with_headers(headers: list[tuple[bytes, bytes]], secure: bool) -> list[tuple[bytes,
                                                                                    bytes]]:
    have = {k.lower() for k, _ in headers}
    out = []
    for k, v in headers:
        if secure and k.lower() == b"set-cookie" and b"; secure" not in v.lower():
            v += b"; Secure"
        out.append((k, v))
    extra = [*HEADERS, _HSTS] if secure else HEADERS
    return out + [(k, v) for k, v in extra if k not in have]


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def security_headers(secure: bool) -> dict[str, str]:
    """`HEADERS` (and HSTS over HTTPS) for a response written outside `Guard`: the answer
    to a crash, which Starlette writes after every middleware has given up."""
    return {k.decode(): v.decode() for k, v in (*HEADERS, _HSTS) if secure or k != _HSTS[0]}


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` value for a download named ``filename`` (RFC 6266): an
    ASCII ``filename`` for old clients, and the exact name as ``filename*`` (RFC 8187)."""
    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "-"
                    for ch in filename)
    plain = "-".join(part for part in plain.split("-") if part) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
