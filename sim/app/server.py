"""Starting the app: Solara's server on the page, for the user's own browser tab only.

What a browser may reach on the machine is not only the user's tab: any page it has open can make
requests to ``127.0.0.1``, and a name the attacker controls can be made to resolve there (DNS
rebinding). So, as Jupyter does, every request must carry the secret token printed at start (the first
request with ``?token=`` leaves it in a cookie), its ``Host`` must be a name of this server, and a
websocket (Solara's page talks to its kernel over one) must come from the server's own origin. The
server listens on loopback unless told otherwise with ``remote=True``.
"""

from __future__ import annotations

import copy
import errno
import hmac
import ipaddress
import os
import re
import secrets
import socket
import warnings
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from sim.app.places import RESULTS, TARGET, VARIANTS, AppError, started_on

PAGE = str(Path(__file__).with_name("page.py"))
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
NAME = r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
HOST = re.compile(rf"{NAME}(:\d{{1,5}})?")  # a Host header: a name and a port, nothing else
ORIGIN = re.compile(rf"http://{NAME}(:(?P<port>\d{{1,5}}))?")  # the page's own origin is plain http


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def own_names(host: str) -> frozenset[str]:
    """The names a request's ``Host`` may give: loopback, the bound address and, bound to every address
    (``0.0.0.0``, ``::``), the machine's own addresses and name."""
    names = set(LOOPBACK) | {host.lower()}
    if host in ("0.0.0.0", "::", ""):
        import psutil

        names |= {a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs}
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names)


@dataclass(frozen=True)
class Door:
    """Who may come in: requests naming this server (``Host``), from its own origin, with its token."""

    names: frozenset[str]
    port: int
    token: str

    @property
    def cookie(self) -> str:
        return f"negsim-token-{self.port}"  # a browser keeps cookies per host, not per port

    def refusal(self, kind: str, headers: dict[str, str], query: str) -> str | None:
        """Why a request (``kind`` "http" or "websocket"; lower-case ``headers``) is refused, or None."""
        host = HOST.fullmatch(headers.get("host", ""))
        if host is None or host["name"].lower().strip("[]") not in self.names:
            return f"refused: Host {headers.get('host', '')!r} is not this app (only {', '.join(sorted(LOOPBACK))})"
        origin = headers.get("origin")
        if origin is not None or kind == "websocket":
            own = ORIGIN.fullmatch(origin or "")
            if own is None or own["name"].lower().strip("[]") not in self.names or int(own["port"] or 80) != self.port:
                return f"refused: origin {origin!r} is not this app's page"
        given = dict(parse_qsl(query)).get("token") or _cookies(headers.get("cookie", "")).get(self.cookie, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "refused: open the address negsim app printed (it carries the app's token)"
        return None


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed cookie header is no token
        return {}
    return {k: m.value for k, m in jar.items()}


class Guarded:
    """The ASGI app behind the :class:`Door`: a refused request gets 403 and one line; the first request with
    the token gets its cookie and is sent on to the same address without it."""

    def __init__(self, app, door: Door):
        self.app, self.door = app, door

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        refused = self.door.refusal(scope["type"], headers, query)
        if refused and scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008, "reason": refused[:120]})
        if refused:
            return await _respond(send, 403, [(b"content-type", b"text/plain; charset=utf-8")], refused + "\n")
        pairs = parse_qsl(query, keep_blank_values=True)
        if scope["type"] == "http" and any(k == "token" for k, _ in pairs):
            rest = urlencode([(k, v) for k, v in pairs if k != "token"])
            cookie = f"{self.door.cookie}={self.door.token}; Path=/; HttpOnly; SameSite=Strict"
            where = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            return await _respond(send, 303, [(b"location", where.encode()), (b"set-cookie", cookie.encode())], "")

        async def framed(message):  # no other page may show this one in a frame (clickjacking)
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-frame-options", b"DENY")]}
            await send(message)

        return await self.app(scope, receive, framed if scope["type"] == "http" else send)


async def _respond(send, status: int, headers: list[tuple[bytes, bytes]], body: str) -> None:
    data = body.encode()
    headers = [*headers, (b"content-length", str(len(data)).encode()), (b"x-frame-options", b"DENY")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def bound(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port), or an :class:`AppError` saying why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise AppError(f"port {port} on {host} is in use (another app?): choose another with --port") from None
        raise AppError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    target: Path | None,
    results: Path | None,
    host: str = "127.0.0.1",
    port: int = 8765,
    remote: bool = False,
    variants: Path | None = None,
    echo=print,
) -> None:
    """Serve the page for ``target`` (a scenario file or a results folder) until interrupted."""
    started_on(target, results, variants)  # refuses a missing target or folder, or a folder without results
    if not is_loopback(host) and not remote:
        raise AppError(
            f"--host {host}: not a loopback address; add --remote to let other machines reach the app "
            "(anyone who has its printed address can then drive it)"
        )
    sock = bound(host, port)
    port = sock.getsockname()[1]
    os.environ[TARGET] = str(target.resolve()) if target else ""
    os.environ[RESULTS] = str(results.resolve()) if results else ""
    os.environ[VARIANTS] = str(variants.resolve()) if variants else ""
    door = Door(own_names(host), port, secrets.token_urlsafe(24))
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    echo(f"negsim app: http://{shown}:{port}/?token={door.token}  (Ctrl+C stops it)")
    if remote and not is_loopback(host):
        echo(
            f"negsim app: warning: listening on {host}, beyond this machine: anyone who can reach it and has the "
            "address above can drive the app and save files"
        )
    _run(door, sock, host, port)


def _run(door: Door, sock: socket.socket, host: str, port: int) -> None:
    """Solara's Starlette app, behind the door, on uvicorn (as ``solara run --production`` starts it)."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls home (read when Solara is imported)
    os.environ["SOLARA_APP"] = PAGE  # read when solara.server.app is imported
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    import uvicorn
    from solara.__main__ import LOGGING_CONFIG
    from solara.server import settings

    settings.main.mode = "production"
    settings.theme.show_banner = False  # Solara's corner banner would cover the figures
    from solara.server.starlette import app

    # Solara warns on each page load that its session cookie cannot be SameSite=None over http; on loopback
    # that is as it should be (the cookie stays Lax).
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    logging = copy.deepcopy(LOGGING_CONFIG)
    logging["loggers"]["solara"]["level"] = "WARNING"
    config = uvicorn.Config(Guarded(app, door), host=host, port=port, log_config=logging, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
