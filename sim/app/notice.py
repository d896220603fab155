"""The page's one line: the last refusal (red) or the last save (green), never both, never stale.

Every handler of user input runs through :func:`attempt`: a refusal of any type becomes this line,
the tab keeps working, and the inputs are put back to what the page uses (``put_back``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import solara

from sim.app.places import EXPECTED, message

ERROR_STYLE = "color:#b00020;background:#fdecea;padding:4px 10px;border-radius:4px;font-family:monospace"
SAVED_STYLE = "color:#1b7f2a;background:#e9f5ec;padding:4px 10px;border-radius:4px"
STICKY = "position:sticky;top:0;z-index:5;background:white;min-height:4px"
LONGEST = 400  # characters of a message shown

log = logging.getLogger("negsim.app")


@dataclass(frozen=True)
class Notice:
    text: str = ""
    saved: bool = False


def said(exc: Exception) -> str:
    """One line for any refusal: the project's own errors as the command line prints them, others with
    their type (a file name too long, a NUL character, an integer too large ...)."""
    line = message(exc) if isinstance(exc, EXPECTED) else f"{type(exc).__name__}: {message(exc)}"
    line = " ".join(line.split())
    return line if len(line) <= LONGEST else line[: LONGEST - 1] + "…"


def attempt(notice: solara.Reactive[Notice], action: Callable, *args, put_back: Callable[[], None] | None = None):
    """``action(*args)``, clearing the page's line; a refusal of any type sets it instead, calls ``put_back`` and
    gives None."""
    try:
        out = action(*args)
    except Exception as exc:
        if not isinstance(exc, EXPECTED):
            log.warning("negsim app: refused: %s", said(exc))
        notice.value = Notice(said(exc))
        if put_back is not None:
            put_back()
        return None
    notice.value = Notice()
    return out


@solara.component
def Fresh(revision: int, make: Callable):
    """The input ``make()`` gives, made anew whenever ``revision`` changes: what was typed or chosen into it and
    refused is put back to the value the page uses (an input keeps what was typed while its value stays)."""
    return make().key(f"revision-{revision}")


@solara.component
def Typed(label: str, value: str, on_value: Callable[[str], None], dense: bool = False):
    """A text box that hands its text to ``on_value`` on Enter or on leaving it. Its text is set by the page only
    when the value changes elsewhere (a slider, a put-back), never on a re-render: a re-render writes back every
    property a widget was given, and would overwrite what someone is still typing with what they typed before."""
    import reacton.ipyvuetify as rv

    mine = solara.use_ref(value)  # the text the box holds as far as the page knows
    handler = solara.use_ref(on_value)
    handler.current = on_value
    field = rv.TextField(label=label, dense=dense, hide_details="auto")  # no v_model here: see above

    def listen():
        widget = solara.get_widget(field)
        widget.v_model = mine.current

        def commit(w, event, data):
            mine.current = w.v_model
            handler.current(w.v_model)

        for event in ("focusout", "keyup.enter"):
            widget.on_event(event, commit)
        return lambda: [widget.on_event(event, commit, remove=True) for event in ("focusout", "keyup.enter")]

    def show():
        if value != mine.current:
            mine.current = solara.get_widget(field).v_model = value

    solara.use_effect(listen, [])
    solara.use_effect(show, [value])
    return field


def Html(html: str, testid: str | None = None, style: str | None = None):
    attributes = {**({"data-testid": testid} if testid else {}), **({"style": style} if style else {})}
    return solara.HTML(tag="div", unsafe_innerHTML=html, attributes=attributes or None)


@solara.component
def NoticeLine(notice: Notice):
    """The line itself, held at the top of the window while the page scrolls."""
    error = f"<div style='{ERROR_STYLE}'>{escape(notice.text)}</div>" if notice.text and not notice.saved else ""
    saved = f"<div data-testid='saved' style='{SAVED_STYLE}'>{escape(notice.text)}</div>" if notice.saved else ""
    with solara.Div(style=STICKY):
        Html(error, "error")  # always there (empty without an error), so tests and layout can rely on it
        if saved:
            Html(saved)
