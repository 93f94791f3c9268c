"""Fonts for figures in Chinese: a CJK font from the distribution, or English without one.

Matplotlib's own DejaVu Sans has no Chinese glyphs. `figure_language` wraps a figure-drawing
function: in Chinese it draws with DejaVu Sans first and Noto Sans CJK (Debian's
``fonts-noto-cjk``; `CJK_FAMILIES` lists the names tried) for every glyph DejaVu lacks; if no
CJK font is installed it draws the figure in English instead, and says so once in the log.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sim.i18n.catalogue import current, use

__all__ = ["cjk_family", "figure_language", "drawing_language", "CJK_FAMILIES"]

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "Droid Sans Fallback")
log = logging.getLogger(__name__)
_found: list[str | None] = []
_lock = threading.Lock()
F = TypeVar("F", bound=Callable[..., Any])


def cjk_family() -> str | None:
    """The first of `CJK_FAMILIES` matplotlib can use, registering the system's CJK font
    files if its font cache predates them; None when there is none."""
    with _lock:
        if not _found:
            _found.append(_search())
        return _found[0]


def _search() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if not any(n in names for n in CJK_FAMILIES):     # a cache built before the fonts came
        for path in font_manager.findSystemFonts():
            if "cjk" in path.lower() or "wqy" in path.lower() or "droidsansfallback" in \
                    path.lower():
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FAMILIES if n in names), None)


def drawing_language() -> str:
    """The language figures are drawn in now: the one in force, except English for Chinese
    when no CJK font is installed (a caller building a figure's title uses this too)."""
    lang = current()
    return "en" if lang == "zh-CN" and cjk_family() is None else lang


def figure_language(draw: F) -> F:
    """Draw the figure in the language in force: in Chinese with a CJK font beside DejaVu
    Sans, or in English (logged once) when no CJK font is installed."""
    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        if current() != "zh-CN":
            return draw(*args, **kwargs)
        family = cjk_family()
        if family is None:
            _say_no_font()
            with use("en"):
                return draw(*args, **kwargs)
        # a list of families: matplotlib takes each glyph from the first that has it
        with matplotlib.rc_context({"font.family": ["DejaVu Sans", family],
                                    "axes.unicode_minus": False}):
            return draw(*args, **kwargs)
    return drawn  # type: ignore[return-value]


_said: list[bool] = []


def _say_no_font() -> None:
    if not _said:
        _said.append(True)
        log.warning("no CJK font for Chinese figures (install Debian's fonts-noto-cjk): "
                    "figures are drawn in English")
