"""Figures in Chinese: every glyph drawn from a real font (no "Glyph missing" from
matplotlib), the words Chinese, and a clean fall-back to English without a CJK font."""

from __future__ import annotations

import logging
import warnings

import pytest
from test_report import _calls, _events, _raster

from sim import i18n
from sim.i18n import fonts
from sim.outputs.figures import hotline_figure, overview_figure

pytestmark = pytest.mark.skipif(
    fonts.cjk_family() is None,
    reason="no CJK font (apt-get install -y fonts-noto-cjk; .ci/run installs it)")


def draw_both(tmp_path, lang: str, title: str = "小城") -> list[str]:
    """Draw the overview and the hotline figure in ``lang``; the warnings matplotlib gave."""
    row, col, subdistrict = _raster()
    with warnings.catch_warnings(record=True) as said, i18n.use(lang):
        warnings.simplefilter("always")
        overview_figure(_events(), row=row, col=col, subdistrict=subdistrict,
                        horizon=2 * 1440.0, title=title, path=tmp_path / "overview.png")
        hotline_figure(_calls(), days=2, title=title, path=tmp_path / "hotline.png",
                       min_orders=3)
    return [str(w.message) for w in said]


def test_a_chinese_figure_misses_no_glyph(tmp_path) -> None:
    said = draw_both(tmp_path, "zh-CN")
    assert not [w for w in said if "missing from" in w], said
    svg = (tmp_path / "overview.svg").read_text(encoding="utf-8")
    hot = (tmp_path / "hotline.svg").read_text(encoding="utf-8")
    # the words are Chinese (the SVG keeps them as text comments beside the glyphs)
    assert "积压" in svg and "每个单元网格的立案数" in svg
    assert "三率" in hot and "满意率" in hot


def test_without_a_cjk_font_a_chinese_figure_is_drawn_in_english(tmp_path, monkeypatch,
                                                                 caplog) -> None:
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    monkeypatch.setattr(fonts, "_said", [])
    caplog.set_level(logging.WARNING, logger="sim.i18n.fonts")
    assert fonts.drawing_language() == "en"
    said = draw_both(tmp_path, "zh-CN", title="small town")
    svg = (tmp_path / "overview.svg").read_text(encoding="utf-8")
    assert "Backlog" in svg and "积压" not in svg
    assert not [w for w in said if "missing from" in w], said
    assert any("fonts-noto-cjk" in r.getMessage() for r in caplog.records)
