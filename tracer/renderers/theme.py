"""Colours: one per lane kind (and so per phase), plus the few semantic styles.

Colour is a bonus: every renderer also marks errors, activity and emphasis by
shape, so the plain-text output reads on its own. Named 256-colour styles keep
the palette stable across dark and light terminals and in SVG export.
"""

from __future__ import annotations

from tracer.analysis.processors import LaneKind
from tracer.model import Phase

LANE: dict[LaneKind, str] = {
    "client": "grey85",
    "server": "dodger_blue1",
    "middleware": "dark_cyan",
    "routing": "orchid",
    "dependency": "gold3",
    "validation": "dark_orange",
    "handler": "green3",
    "db": "deep_sky_blue1",
    "outbound": "indian_red1",
    "serialization": "medium_purple1",
    "background": "light_salmon1",
}
#: alternate colours so neighbouring middleware lanes stay apart
MIDDLEWARE = ("dark_cyan", "cyan3", "light_sea_green", "steel_blue1", "aquamarine3")
#: FastAPI's and Starlette's own layers: quieter than the app's (also marked by shape, ``★``)
FRAMEWORK = "light_slate_grey"

PHASE: dict[Phase, str] = {
    "asgi": LANE["server"],
    "middleware": LANE["middleware"],
    "routing": LANE["routing"],
    "dependency": LANE["dependency"],
    "validation": LANE["validation"],
    "handler": LANE["handler"],
    "db": LANE["db"],
    "outbound": LANE["outbound"],
    "serialization": LANE["serialization"],
    "send": "plum2",
    "background": LANE["background"],
    "lifespan": LANE["server"],
}

ERROR = "bold red1"
WARN = "bold yellow"
DIM = "grey50"
FAINT = "grey35"
MUTED = "grey62"
RETURN = "grey58"
BADGE = "bold reverse"
TITLE = "bold reverse"
HOT = "bold"
#: time no hook covered: a gap, not work
UNTRACED = "italic grey50"


def status_style(code: int | None) -> str:
    if code is None or code >= 500:
        return "bold red1"
    if code >= 400:
        return "bold yellow"
    if code >= 300:
        return "bold cyan"
    return "bold green3"
