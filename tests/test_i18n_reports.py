"""The validation report in Chinese: lang="zh-CN", its headings, notes and figures in Chinese;
its CSV tables stay in English column codes (for tools). The experiment report's Chinese is
checked in tests/test_experiment.py, on the comparison that test runs anyway."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_ingest import town_log, town_run  # noqa: F401 - fixtures

from sim.cli.commands import main


def test_the_validation_report_in_chinese(town_run: Path, town_log: Path,  # noqa: F811
                                          tmp_path: Path) -> None:
    out = tmp_path / "val"
    assert main(["validate-against", str(town_log), str(town_run), "--out", str(out),
                 "--lang", "zh-CN"]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in text and text.count("<svg") == 3
    for words in ("验证：模拟运行", "结案用时", "标准综合评价：专业部门", "案件到达", "周一"):
        assert words in text, words
    assert "measure" in pd.read_csv(out / "headline.csv").columns     # the tables: for tools
