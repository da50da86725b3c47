"""The harassment log as a picture: one bar per day, night-time incidents stacked in a darker colour.

Rendered with matplotlib's object API and its Agg canvas (no pyplot, no display, no global
state), so it is safe in a worker thread and on a server without a screen. Called off the
event loop and outside any transaction (see ``flows.model.SendImage``): a plot takes tens of
milliseconds, the first one (font cache) longer.

Chinese labels need a font with Chinese glyphs. If the machine has none, matplotlib would draw
empty boxes; then every label is replaced by one made of digits and ASCII (dates, the hours
22:00-08:00), and the Telegram caption, which phones render in any script, carries the words.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flows.timeline import Day

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

MAX_DAILY_BARS = 120  # beyond this many days a bar per day is a hairline: count per week instead
MAX_LABELS = 14  # date labels under the bars
MAX_FONT_FILES = 300  # fonts probed for Chinese glyphs (a server has a few dozen)
PREFERRED = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei")
DAY_COLOUR, NIGHT_COLOUR = "#9bb7d4", "#1f3b5c"
AUTO = "auto"  # find a font with Chinese glyphs on this machine


@dataclass(frozen=True)
class ChartText:
    """The words on the picture, from content."""

    title: str  # one bar per day
    title_weekly: str  # one bar per week (a long log)
    day: str  # legend: 08:00-22:00
    night: str  # legend: 22:00-08:00


@dataclass(frozen=True)
class Bar:
    start: date
    total: int
    night: int


def bars(days: Sequence[Day]) -> tuple[tuple[Bar, ...], bool]:
    """One bar per day, or per week (weeks start on Monday) when there are too many days."""
    if len(days) <= MAX_DAILY_BARS:
        return tuple(Bar(d.on, d.total, d.night) for d in days), False
    weeks: dict[date, list[int]] = {}
    for d in days:
        monday = d.on - timedelta(days=d.on.weekday())
        total, night = weeks.setdefault(monday, [0, 0])
        weeks[monday] = [total + d.total, night + d.night]
    return tuple(Bar(k, t, n) for k, (t, n) in sorted(weeks.items())), True


def _covers(path: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(ch)) for ch in text if not ch.isspace())


@lru_cache(maxsize=32)
def font_for(text: str) -> str | None:
    """A font file on this machine with a glyph for every character of ``text``, if any."""
    if text.isascii():
        return None
    from matplotlib import font_manager

    fonts = font_manager.fontManager.ttflist
    ranked = sorted(fonts, key=lambda f: (f.name not in PREFERRED, "CJK" not in f.name, f.name))
    for entry in ranked[:MAX_FONT_FILES]:
        if _covers(entry.fname, text):
            return str(entry.fname)
    return None


def _labels(text: ChartText, shown: tuple[Bar, ...], weekly: bool, fontfile: str | None) -> dict[str, str]:
    """The words if the font has them, else labels of digits and ASCII only."""
    if fontfile:
        return {"title": text.title_weekly if weekly else text.title, "day": text.day, "night": text.night}
    first, last = shown[0].start, shown[-1].start + timedelta(days=6 if weekly else 0)
    return {"title": f"{first:%Y-%m-%d} - {last:%Y-%m-%d}", "day": "08:00-22:00", "night": "22:00-08:00"}


def figure(days: Sequence[Day], text: ChartText, *, font: str | None = AUTO) -> Any:
    """The chart as a matplotlib ``Figure`` (tests read its texts); ``font`` is a font file,
    None for none (ASCII labels), or AUTO to look for one."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    shown, weekly = bars(days)
    if not shown:
        raise ValueError("no days to draw")
    words = text.title + text.title_weekly + text.day + text.night
    fontfile = font_for(words) if font == AUTO else font
    labels = _labels(text, shown, weekly, fontfile)
    prop: FontProperties | None = FontProperties(fname=fontfile) if fontfile else None

    n = len(shown)
    fig = Figure(figsize=(min(12.0, max(6.0, 2.0 + 0.12 * n)), 4.0), dpi=110)
    ax = fig.add_subplot()
    x = list(range(n))
    daytime = [b.total - b.night for b in shown]
    ax.bar(x, daytime, color=DAY_COLOUR, label=labels["day"], width=0.8)
    ax.bar(x, [b.night for b in shown], bottom=daytime, color=NIGHT_COLOUR, label=labels["night"], width=0.8)
    step = max(1, -(-n // MAX_LABELS))
    ax.set_xticks(x[::step], [f"{b.start:%m-%d}" for b in shown[::step]], rotation=45 if n > 7 else 0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(b.total for b in shown) * 1.35 + 1)  # room for the legend above the bars
    ax.set_xlim(-0.6, n - 0.4)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(labels["title"], fontproperties=prop)
    ax.legend(prop=prop, frameon=False, loc="upper left")
    fig.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.18)  # tight_layout costs a second drawing
    return fig


def png(days: Sequence[Day], text: ChartText, *, font: str | None = AUTO) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure(days, text, font=font)
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})
    return buf.getvalue()
