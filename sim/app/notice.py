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
from ipyvuetify import VuetifyTemplate
from traitlets import Any, Bool, Unicode

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


class TextBox(VuetifyTemplate):
    """A text field that sends its text along with the Enter key or the leaving of it (``vue_commit``): read at
    that moment, the field's synced value could still be the one typed before, its newer text on its way."""

    template = Unicode(
        "<template><v-text-field v-model='text' :label='label' :dense='dense' hide-details='auto' "
        "@keyup.enter='commit(text)' @blur='commit(text)'></v-text-field></template>"
    ).tag(sync=True)
    text = Unicode("").tag(sync=True)
    label = Unicode("").tag(sync=True)
    dense = Bool(False).tag(sync=True)
    committed = Any(None)  # called with the text

    def vue_commit(self, data):
        if self.committed is not None:
            self.committed(str(data))


@solara.component
def Typed(label: str, value: str, on_value: Callable[[str], None], revision: int = 0, dense: bool = False):
    """A text box that hands its text to ``on_value`` on Enter or on leaving it. The page sets its text only when
    the value changes elsewhere (a slider) or ``revision`` changes (a refused text put back), never on a
    re-render: a re-render writes back every property a widget was given, and would overwrite what someone is
    still typing with what they typed before."""
    mine = solara.use_ref(value)  # the text the box holds as far as the page knows
    seen = solara.use_ref(revision)
    handler = solara.use_ref(on_value)
    handler.current = on_value
    box = TextBox.element(label=label, dense=dense)  # no text here: see above

    def listen():
        widget = solara.get_widget(box)
        widget.text = mine.current

        def commit(text: str):
            mine.current = text
            handler.current(text)

        widget.committed = commit
        return lambda: setattr(widget, "committed", None)

    def show():
        if value != mine.current or revision != seen.current:
            seen.current = revision
            mine.current = solara.get_widget(box).text = value

    solara.use_effect(listen, [])
    solara.use_effect(show, [value, revision])
    return box


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
