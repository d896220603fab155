"""``negsim app`` as a server: only the user's own tab gets in (Host, Origin, token), loopback unless told
otherwise, a port in use said in one line. Driven by a scripted client (http.client, websockets)."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ServedApp, serving
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.app.server import Door, own_names

ROOT = Path(__file__).resolve().parents[1]
NEGSIM = str(Path(sys.executable).with_name("negsim"))
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with serving(str(BASELINE), cwd=tmp_path_factory.mktemp("app")) as served:
        yield served


def get(app: ServedApp, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=60)
    connection.putrequest("GET", path, skip_host="Host" in (headers or {}))
    for k, v in (headers or {}).items():
        connection.putheader(k, v)
    connection.endheaders()
    response = connection.getresponse()
    response.body = response.read().decode()
    return response


def cookie(app: ServedApp) -> dict[str, str]:
    return {"Cookie": f"negsim-token-{app.port}={app.token}"}


def opens(app: ServedApp, origin: str | None, headers: dict[str, str], host: str = "127.0.0.1") -> int:
    """The HTTP status the app answers a websocket to Solara's kernel channel with (101: it opened); ``host``
    is the name the client asks for (the connection goes to loopback, as after a DNS rebinding)."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = f"ws://{host}:{app.port}/jupyter/api/kernels/k1/channels?session_id=s1"
    sock = socket.create_connection(("127.0.0.1", app.port), timeout=30)
    try:
        with connect(url, sock=sock, origin=origin, additional_headers=headers, open_timeout=30):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_a_missing_or_wrong_token_is_refused_and_the_printed_address_lets_the_tab_in(app):
    for path in ("/", "/?token=nope", f"/?token={app.token[:-1]}", "/static/main.js"):
        refused = get(app, path)
        assert refused.status == 403, path
        assert refused.body.strip() == "refused: open the address negsim app printed (it carries the app's token)"
    first = get(app, f"/?token={app.token}")
    assert first.status == 303 and first.getheader("location") == "/"  # the token leaves the address bar
    set_cookie = first.getheader("set-cookie")
    assert set_cookie.startswith(f"negsim-token-{app.port}={app.token};")
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    page = get(app, "/", cookie(app))
    assert page.status == 200 and "solara" in page.body.lower()
    assert page.getheader("x-frame-options") == "DENY"  # no other page may frame it
    assert get(app, "/", {"Cookie": f"negsim-token-{app.port}=wrong"}).status == 403


def test_a_foreign_host_is_refused_even_with_the_token(app):
    for host in ("attacker.example", f"attacker.example:{app.port}", "127.0.0.1.evil.test", "", "[::2]"):
        refused = get(app, "/", {"Host": host, **cookie(app)})
        assert refused.status == 403, host
        assert refused.body.startswith("refused: Host") and "\n" not in refused.body.strip()
    for host in (f"127.0.0.1:{app.port}", f"localhost:{app.port}", f"[::1]:{app.port}"):
        assert get(app, "/", {"Host": host, **cookie(app)}).status == 200, host


def test_the_websocket_opens_only_from_the_apps_own_page(app):
    own = f"http://127.0.0.1:{app.port}"
    assert opens(app, own, cookie(app)) == 101
    assert opens(app, f"http://localhost:{app.port}", cookie(app)) == 101
    for origin in ("http://evil.example", "http://127.0.0.1:9000", f"https://127.0.0.1:{app.port}", "null", None):
        assert opens(app, origin, cookie(app)) == 403, origin  # a page from elsewhere, even in the user's browser
    assert opens(app, own, {}) == 403  # no token
    assert opens(app, own, cookie(app), host="attacker.example") == 403
    assert "samesite" not in app.output.lower()  # no cookie warning printed for each tab


@settings(max_examples=200, deadline=None)
@given(
    host=st.sampled_from(["127.0.0.1", "localhost", "[::1]", "evil.test", "127.0.0.2", "0.0.0.0"])
    | st.text(max_size=30),
    origin=st.none()
    | st.sampled_from(["http://127.0.0.1:8765", "http://localhost:8765", "http://127.0.0.1:80"])
    | st.text(max_size=30),
    token=st.sampled_from(["t0k3n", "t0k3", "", "T0K3N"]) | st.text(max_size=8),
    kind=st.sampled_from(["http", "websocket"]),
)
def test_the_door_lets_in_exactly_the_apps_own_names_origin_and_token(host, origin, token, kind):
    door = Door(own_names("127.0.0.1"), 8765, "t0k3n")
    headers = {"host": f"{host}:8765", "cookie": f"negsim-token-8765={token}"}
    if origin is not None:
        headers["origin"] = origin
    refusal = door.refusal(kind, headers, "")
    good_origin = origin in ("http://127.0.0.1:8765", "http://localhost:8765") or (origin is None and kind == "http")
    admitted = host.lower() in ("127.0.0.1", "localhost", "[::1]") and good_origin and token == "t0k3n"
    assert (refusal is None) == admitted, (host, origin, token, kind, refusal)
    assert refusal is None or "\n" not in refusal
    assert door.refusal(kind, {"host": "127.0.0.1", "origin": "http://127.0.0.1:8765"}, "token=t0k3n") is None


def test_beyond_loopback_only_when_asked_and_then_with_a_warning(tmp_path):
    done = subprocess.run([NEGSIM, "app", str(BASELINE), "--host", "0.0.0.0"], capture_output=True, text=True)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip() == (
        "negsim: --host 0.0.0.0: not a loopback address; add --remote to let other machines reach the app "
        "(anyone who has its printed address can then drive it)"
    )
    with serving(str(BASELINE), "--host", "0.0.0.0", "--remote", cwd=tmp_path) as served:
        assert any("warning: listening on 0.0.0.0, beyond this machine" in line for line in served.lines)
        assert get(served, "/", cookie(served)).status == 200
        assert get(served, "/", {"Host": "attacker.example", **cookie(served)}).status == 403


def test_a_port_in_use_is_one_line_and_no_address_is_printed(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [NEGSIM, "app", str(BASELINE), "--port", str(port)], capture_output=True, text=True, cwd=tmp_path
        )
    assert done.returncode == 2 and not done.stdout  # no address of the other program
    assert (
        done.stderr.strip() == f"negsim: port {port} on 127.0.0.1 is in use (another app?): choose another with --port"
    )


def test_what_the_app_cannot_start_on_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "folder").mkdir()
    for args, says in (
        ([str(tmp_path / "nope.yaml")], f"{tmp_path / 'nope.yaml'}: no such scenario file or results folder"),
        (
            [str(tmp_path / "folder")],
            f"{tmp_path / 'folder'}: a folder without meta.json is not a results folder (give one, or a scenario file)",
        ),
        (
            [str(BASELINE), "--variants", str(tmp_path / "nowhere")],
            f"{tmp_path / 'nowhere'}: no such folder for variants",
        ),
    ):
        done = subprocess.run([NEGSIM, "app", *args], capture_output=True, text=True)
        assert done.returncode == 2 and not done.stdout, args
        assert done.stderr.strip() == says
