"""The command line in Chinese: the help and usage of every command, argparse's own errors,
errors about bad input (their file:line, flag and key kept verbatim), and what the experiment,
import and export commands print, with ``--lang`` before or after the command or from
``$GRIDLOOP_LANG``. English stays as it was.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
import pytest

from sim import i18n
from sim.cli import main
from sim.cli.commands import _parser

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _parsers(parser: argparse.ArgumentParser, name: str = "gridloop"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, p in action.choices.items():
                yield from _parsers(p, f"{name} {sub}")


def test_every_help_text_of_every_command_is_in_chinese() -> None:
    """A help text added without _(), or marked but not translated, fails here."""
    with i18n.use("zh-CN"):
        parser = _parser()
    english = []
    for name, p in _parsers(parser):
        texts = [("description", p.description), ("epilog", p.epilog)]
        texts += [(f"section {g.title!r}", g.title) for g in p._action_groups]
        for action in p._actions:
            label = "/".join(action.option_strings) or action.dest
            texts.append((label, action.help))
            if isinstance(action, argparse._SubParsersAction):
                texts += [(f"command {c.dest}", c.help) for c in action._choices_actions]
        english += [f"{name}: {what}: {text!r}" for what, text in texts
                    if text and text != argparse.SUPPRESS and not CJK.search(text)]
    assert not english, "help in English under zh-CN:\n" + "\n".join(english)


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    assert e.value.code == 0
    return capsys.readouterr().out


def test_help_is_chinese_with_lang_before_or_after_the_command_or_from_the_environment(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (("--lang", "zh", "sweep", "--help"), ("sweep", "--help", "--lang=zh-CN")):
        text = _help(capsys, *argv)
        assert text.startswith("用法：gridloop sweep [-h] --vary KEY=V1,V2|KEY=LO:HI"), text
        for words in ("位置参数", "选项", "显示本帮助信息后退出", "拉丁超立方",
                      "每个场景或设计点的重复运行次数，例如 20（默认 10）"):
            assert words in text, words
        assert "show this help" not in text and "replications per" not in text
    monkeypatch.setenv(i18n.ENV, "zh-CN")
    assert "用法：gridloop compare" in _help(capsys, "compare", "--help")
    assert "子命令" in _help(capsys, "--help")
    monkeypatch.delenv(i18n.ENV)
    english = _help(capsys, "sweep", "--help")
    assert english.startswith("usage: gridloop sweep") and "options:" in english
    assert "replications per scenario or design point, e.g. 20 (default 10)" in " ".join(
        english.split())
    assert not CJK.search(english)


def test_argparse_errors_are_chinese_and_keep_the_flag_and_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--lang", "zh-CN", "run", "--days", "x"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith("用法：gridloop run")
    assert "gridloop run：错误：参数 --days：无效的 int 值：'x'" in err
    with pytest.raises(SystemExit):
        main(["valdate", "--lang", "zh"])
    err = capsys.readouterr().err
    assert "参数 COMMAND：无效的选项：'valdate'（可选：'run', 'validate'," in err
    assert "（是否想输入 'validate' 或 'evaluate'？）" in err
    with pytest.raises(SystemExit):
        main(["sweep", "small-town", "--lang", "zh"])
    assert "缺少必需的参数：--vary, --out" in capsys.readouterr().err


def test_a_bad_set_key_is_chinese_around_the_flag_key_and_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "small-town", "--set", "inspectors.cuont=3", "--lang", "zh"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridloop: --set: inspectors.cuont: 应为 check_accuracy, ")
    assert err.rstrip().endswith("之一，实际为未知的键 'cuont'（是否想输入 'count'？）")
    assert main(["validate", "small-town", "--set", "inspectors", "--lang", "zh"]) == 2
    assert "gridloop: --set: inspectors: 应为 点分.键=值 的形式，实际为 'inspectors'" in \
        capsys.readouterr().err


def test_a_bad_key_in_a_file_is_chinese_and_names_the_file_line_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    town = tmp_path / "town.yaml"
    town.write_text("base: small-town\ninspectors:\n  count: many\n  cuont: 3\n",
                    encoding="utf-8")
    assert main(["validate", str(town), "--lang", "zh-CN"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gridloop: {town}:4: inspectors.cuont: 应为 ")
    assert "实际为未知的键 'cuont'（是否想输入 'count'？）" in err
    town.write_text("base: small-town\ninspectors:\n  count: many\n", encoding="utf-8")
    assert main(["validate", str(town), "--lang", "zh-CN"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"gridloop: {town}:3: inspectors.count: 应为整数，实际为 'many' (str)")
    assert main(["validate", str(town)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"gridloop: {town}:3: inspectors.count: expected a whole number, got 'many' (str)")


def test_compare_prints_its_progress_table_and_hints_in_chinese(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    # whistle is a city with a 12345 hotline, small-town has none: its satisfaction is "-"
    assert main(["compare", "small-town", "governance/whistle", "--days", "1", "--reps", "2",
                 "--workers", "1", "--seed", "1", "--out", str(out), "--lang", "zh-CN"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("已运行 4/4 个任务（每个设计点重复 2 次）", "关键指标", "场景", "（基准）",
                  "立案数", "结案率", "均值 ± 95% 置信区间半宽，基于 2 次重复运行",
                  "绿色：该指标显著优于基准", f"结果在 {out}；运行 `gridloop report {out}`"):
        assert words in text, words
    assert "结案率 = closure_rate" in text         # the KPI code stays, for --kpi
    assert "满意率 = three_rates.satisfaction" in text
    assert re.search(r"small-town （基准）(?: [\d.]+ ±[\d.]+)* - whistle", text), text
    for english in ("ran 4 of", "baseline", "replications", "results in", "KPIs"):
        assert english not in text, english


def test_import_log_and_export_speak_chinese(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    assert main(["import-log", str(ROOT / "scenarios" / "examples" / "caselog.csv"),
                 "--out", str(log), "--lang", "zh-CN"]) == 0
    text = capsys.readouterr().out
    assert "条记录被拒收（原因见 " in text and "个案件 -> " in text
    assert f"下一步：gridloop evaluate {log}" in text and "next:" not in text
    assert main(["export", str(log), "--format", "open311", "--lang", "zh-CN"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"gridloop: {log / 'cases.parquet'}: 文件不存在；应为由 `gridloop run` 写出的运行文件夹"
        "（见 docs/event-log.md）")
    run = tmp_path / "run"
    assert main(["run", "small-town", "--days", "1", "--no-figure", "--quiet", "--out",
                 str(run)]) == 0
    capsys.readouterr()
    assert main(["export", str(run), "--format", "open311", "--lang", "zh-CN"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"正在把 {run}（") and "导出为 open311" in text
    assert f"已写入 {run / 'open311.csv'}" in text
    assert "  注：" in text and "no scenario" not in text


def test_validation_tables_show_their_verdicts_in_the_language_in_force() -> None:
    from sim.ingest.report_html import shown

    verdicts = pd.DataFrame({"measure": ["daily load", "public share"],
                             "scope": ["filed cases a day", "filed cases"],
                             "difference": ["+3.0%", "-1.2 points"],
                             "tolerance": ["within 10%", "within 5 points"],
                             "verdict": ["PASS", "FAIL"]})
    assert shown(verdicts) is verdicts                  # English: the table as written
    with i18n.use("zh-CN"):
        got = shown(verdicts)
    assert list(got.columns) == ["度量", "范围", "差异", "容差", "结论"]
    assert got.iloc[0].tolist() == ["每日案件量", "每日立案数", "+3.0%", "10% 以内", "通过"]
    assert got.iloc[1].tolist() == ["市民举报占比", "立案案件", "-1.2 个百分点",
                                    "5 个百分点以内", "未通过"]


def _columns(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_chinese_help_fits_the_terminal_and_never_starts_a_line_with_closing_punctuation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with i18n.use("zh-CN"):
        parser = _parser()
        texts = {name: p.format_help() for name, p in _parsers(parser)}
    wide, broken = [], []
    for name, text in texts.items():
        for line in text.splitlines():
            if _columns(line) > 80 and " " in line.strip():   # a single long word may not fit
                wide.append(f"{name}: {line}")
            if line.strip() and line.strip()[0] in "）)，。；：、":
                broken.append(f"{name}: {line}")
    assert not wide, "\n".join(wide)
    assert not broken, "\n".join(broken)
