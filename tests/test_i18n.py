"""Both languages: the catalogue is complete and speaks the glossary's terms, nothing a person
reads in the console's templates or scripts escapes it, bad languages are refused plainly,
a missing translation falls back to English, and the data carries its Chinese names.

The catalogue is extracted afresh from the code with Babel (babel.cfg, as `make catalogues`
does), so a new message without a zh-CN translation fails here, and so does a translation
whose placeholders differ from the English.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import pytest
import yaml
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from sim import i18n
from sim.data.taxonomy import load_handbook
from sim.i18n.catalogue import po_file

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "training" / "console"
FIELD = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list:
    """Every message the code marks, extracted now with the project's Babel mapping."""
    pot = tmp_path_factory.mktemp("pot") / "gridloop.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                "-o", str(pot), str(ROOT)])
    with pot.open("rb") as f:
        return [m for m in read_po(f) if m.id]


@pytest.fixture(scope="module")
def zh() -> dict:
    with po_file("zh-CN").open("rb") as f:
        return {m.id if isinstance(m.id, str) else tuple(m.id): m
                for m in read_po(f, locale="zh_CN") if m.id}


def _text(message) -> str:
    return message.string if isinstance(message.string, str) else " ".join(message.string)


def test_every_message_has_a_reviewed_zh_translation(extracted, zh) -> None:
    missing, fuzzy, fields = [], [], []
    for m in extracted:
        key = m.id if isinstance(m.id, str) else tuple(m.id)
        got = zh.get(key)
        if got is None or not all(got.string if isinstance(got.string, tuple)
                                  else [got.string]):
            missing.append(key)
        elif got.fuzzy:
            fuzzy.append(key)
        else:
            english = m.id if isinstance(m.id, str) else m.id[-1]
            if sorted(FIELD.findall(english)) != sorted(FIELD.findall(_text(got))):
                fields.append((key, _text(got)))
    assert not missing, f"no zh-CN translation (run `make catalogues`, then translate): {missing}"
    assert not fuzzy, f"fuzzy (unreviewed) zh-CN entries: {fuzzy}"
    assert not fields, f"translations whose {{fields}} differ from the English: {fields}"
    assert len(extracted) > 250      # the console, the desk, grading and the CLI are all in


# -- the glossary is the source of truth ------------------------------------------------------
def glossary() -> dict[str, tuple[str, ...]]:
    """English term -> its Chinese terms, from every table of docs/glossary.md with a
    Chinese column first."""
    out: dict[str, tuple[str, ...]] = {}
    header = None
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if header[:2] != ["Chinese", "English"] or set(cells[0]) <= {"-"} or not cells[0]:
            continue
        out[cells[1]] = tuple(t.strip() for t in cells[0].split("/"))
    return out


# English term (as the glossary writes it) -> how a message says it. `None`: no message of
# the catalogue says it (yet); the term is still the one to use when one does.
FORMS: dict[str, str | None] = {
    "unit grid": r"\bgrids?\b",
    "subdistrict": r"\bsubdistricts?\b",
    "community": r"\bcommunit(y|ies)\b",
    "beat": r"\bbeats?\b",
    "inspector": r"\binspectors?\b",
    "citizen (the public)": r"\bcitizens?\b",
    "supervision centre": r"\bsupervision\b",
    "acceptor": r"\bacceptors?\b",
    "shift leader": r"\bshift leaders?\b",
    "command centre": r"\bcommand\b",
    "dispatcher": r"\bdispatchers?\b",
    "department": r"\bdepartments?\b",
    "dispatch handbook": r"\bhandbook\b",
    "class": None,                      # "class" in the console is a class of trainees (班级)
    "subclass": r"\bsubclass(es)?\b",
    "component": r"\bcomponents?\b",
    "event": None,                      # three meanings (see the glossary's note)
    "filing criterion": r"\bfiling criterion\b|\bfile when\b|\bmeet(s|ing)? the criterion",
    "closing criterion": r"\bclosing criterion\b|\bclose when\b",
    "handling time limit": r"\bhandling (time limit|deadline)\b",
    "urgent": r"\burgen(t|cy)\b",
    "working time": r"\bworking hours?\b",
    "extra workday": r"\bextra workdays?\b",
    "case": r"\bcases?\b",
    "report (collection)": r"(?<!public )\breports?\b(?! the work)",
    "missed report": r"\bmissed reports?\b",
    "self-handle": r"\bon the spot\b",
    "verify": r"\bverif(y|ied|ication)\b",
    "file": r"\b(file|filed|filing)\b",
    "void": r"\bvoid(ed|ing)?\b",
    "dispatch": r"\bdispatch(ed|ing|es)?\b",
    "return": r"\breturn(s|ed)?\b",
    "extension": r"\bextensions?\b",
    "suspension": r"\bsuspen(sion|ded|d)\b",
    "handle": r"\bhandl(e|ed|ing)\b",
    "feedback": r"\breports the work done\b|\bdepartment's word\b",
    "check": r"\bcheck(s|ed)?\b",
    "rework": r"\brework(s|ed)?\b",
    "close": r"\bclos(e|ed|ing)\b",
    "evaluation": r"\bevaluation\b",
    "composite index": r"\bcomposite\b",
    "case log": r"\bcase logs?\b",
    "grid map": r"\bgrid maps?\b",
    "12345 hotline, respond-at-once": r"\bhotline\b",
    "call-taker": r"\bcall-takers?\b",
    "work order": r"\bwork orders?\b",
    "direct dispatch": r"\bdirect dispatch\b",
    "first receiver leads": r"\bfirst receiver\b",
    "territorial backstop": r"\bbackstop\b",
    "call-back survey": r"\bcall-back\b",
    "three rates": r"\bthree rates\b",
    "response rate": r"\bresponse rate\b",
    "resolution rate": r"\bresolution rate\b",
    "satisfaction rate": r"\bsatisfaction rate\b",
    "whistle-and-report": r"\bwhistle-and-report\b",
    "whistle": r"\bwhistles?\b(?!-and)",
    "public report": r"\bpublic reports?\b",
    "exercise": r"\bexercises?\b",
    "card": r"\bcards?\b",
    "briefing": r"\bbriefing\b",
    "inject": r"\binjects?\b",
    "rubric": r"\brubrics?\b",
    "deviation": r"\bdeviations?\b",
    "reference (run)": r"\breference\b",
    "trainee": r"\btrainees?\b",
    "instructor": r"\binstructors?\b",
    "feedback (grading)": r"\bfeedback\b",
}
# senses of a word that are not the glossary's (the exercise window closes; a case log is not
# a case), and wider Chinese a term may take (closing or filing a case names the case)
UNLESS = {"close": r"\bwindow\b|\bdecisions are closed\b", "case": r"\bcase logs?\b",
          "report (collection)": r"\bwhistle-and-report\b|\bmissed report|\bHTML report\b|"
                                 r"\breport's\b|\breport folder\b|\breport and gradebook\b|"
                                 r"\bgridloop report\b",
          "evaluation": r"\bevaluation composite\b",
          # the command line's own words: a file on disk, a command typed, checking a file,
          # a grid of parameter values, the names of a rule set and of CSV columns
          "file": r"\S\s+files?\b(?!\s+(when|as|the case|the report)\b)|\bfiles?\s*[,):]|"
                  r"\bfiles? to write\b",
          "command centre": r"\b(every|this) command\b",
          "check": r"\bcheck (a scenario|with a value|it)\b",
          "unit grid": r"\bgrid-based\b|\bover a grid\b",
          "subdistrict": r"points-deduction, subdistrict",
          "department": r"\bclass, department, urgency\b",
          "urgent": r"\bclass, department, urgency\b",
          "dispatch handbook": r"\(default: handbook\)"}
# what is code in a message, not words: examples (``e.g. inspectors.count=300``), flags,
# paths, file names, dotted keys and `commands`
CODE = re.compile(r"\be\.g\.\s[^;()]*|--[\w-]+|`[^`]*`|\S*[./_=$]\S*")
ALSO = {"case": ("立案", "结案")}
REQUIRED = ("监督员", "受理员", "值班长", "派遣员", "立案", "派遣", "处置", "核查", "结案", "返工",
            "回退", "延期", "挂账", "三率")


def test_the_glossary_names_the_platform_terms_and_every_term_has_a_form() -> None:
    terms = glossary()
    chinese = {t for alts in terms.values() for t in alts}
    assert set(REQUIRED) <= chinese, set(REQUIRED) - chinese
    assert set(terms) == set(FORMS), (
        f"glossary rows without a form here: {set(terms) - set(FORMS)}; "
        f"forms for rows the glossary lost: {set(FORMS) - set(terms)}")


def test_the_catalogue_uses_the_glossary_term_for_each_glossary_term(zh) -> None:
    wrong = []
    for english, alternatives in glossary().items():
        pattern = FORMS[english]
        if pattern is None:
            continue
        accepted = alternatives + ALSO.get(english, ())
        for key, m in zh.items():
            said = CODE.sub(" ", FIELD.sub(" ", key if isinstance(key, str) else key[0]))
            if not re.search(pattern, said, re.I) or (
                    english in UNLESS and re.search(UNLESS[english], said, re.I)):
                continue
            if not any(t in _text(m) for t in accepted):
                wrong.append(f"{english} ({'/'.join(accepted)}): {said!r} -> {_text(m)!r}")
    assert not wrong, "translations not using the glossary's term:\n" + "\n".join(wrong)


# -- nothing a person reads escapes the catalogue --------------------------------------------
WORD = re.compile(r"[A-Za-z]{2,}")
SHOWN_ATTRS = re.compile(r'\b(placeholder|title|aria-label|alt)="([^"{]*)"')


def test_templates_hold_no_text_outside_the_catalogue() -> None:
    found = []
    for path in sorted((CONSOLE / "templates").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        # translated blocks go; every other Jinja construct is a value, not text
        rest = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", " ", source, flags=re.S)
        rest = re.sub(r"{{.*?}}|{%.*?%}|{#.*?#}", "", rest, flags=re.S)
        for _attr, shown in SHOWN_ATTRS.findall(rest):
            if WORD.search(shown):
                found.append(f"{path.name}: {shown!r}")
        text = re.sub(r"<!doctype[^>]*>|<[^>]*>|&[a-z]+;|&#\d+;", " ", rest, flags=re.I)
        for words in WORD.finditer(text):
            found.append(f"{path.name}: {words.group(0)!r}")
    assert not found, "text outside {{ _() }} / {% trans %}:\n" + "\n".join(found)


# strings in the scripts that are code, not words: HTTP header names, the strict directive
TECHNICAL = {"Accept", "Content-Type", "X-CSRF-Token", "use strict"}
STRING = re.compile(r"""//[^\n]*|/\*.*?\*/|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""", re.S)


def test_scripts_hold_no_words_outside_the_catalogue() -> None:
    found = []
    for path in sorted((CONSOLE / "static").glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for m in STRING.finditer(source):
            if m.group(1) is None:          # a comment
                continue
            text = m.group(1)[1:-1]
            marked = re.search(r"\b_\(\s*$", source[:m.start()]) is not None
            prose = re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", text) or re.match(
                r"^[A-Z][a-z]+", text) or "…" in text or "▸" in text
            if prose and not marked and text not in TECHNICAL:
                line = source.count("\n", 0, m.start()) + 1
                found.append(f"{path.name}:{line}: {text!r}")
    assert not found, "words in the scripts outside _():\n" + "\n".join(found)


# -- choosing a language, and what goes wrong --------------------------------------------------
@pytest.mark.parametrize(("given", "lang"), [
    ("en", "en"), ("zh-CN", "zh-CN"), ("zh_CN", "zh-CN"), ("ZH-cn", "zh-CN"), ("zh", "zh-CN"),
    ("en-US", "en")])
def test_languages_are_read_in_their_usual_spellings(given: str, lang: str) -> None:
    assert i18n.check_language(given) == lang


@pytest.mark.parametrize("given", ["fr", "", "zh-TW-x", "english please"])
def test_an_unknown_language_is_refused_naming_the_available_ones(given: str) -> None:
    with pytest.raises(i18n.LanguageError) as e:
        i18n.check_language(given, "--lang")
    assert str(e.value) == (f"--lang: expected one of en (English), zh-CN (简体中文), "
                            f"got {given!r}")


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en-US,en;q=0.9", "en"), ("fr-FR,fr;q=0.9", "en"),
    ("fr;q=1, zh;q=0.5", "zh-CN"), ("en;q=0.2, zh-Hans;q=0.8", "zh-CN"), ("", "en"),
    (None, "en"), ("zh-CN;q=bad, en", "en")])
def test_the_browser_language_is_negotiated(header: str | None, lang: str) -> None:
    assert i18n.negotiate(header) == lang


def test_a_missing_translation_falls_back_to_english_logged_once(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="sim.i18n.catalogue")
    with i18n.use("zh-CN"):
        assert i18n.gettext("Dispatch to a department") == "派遣至专业部门"
        for _ in range(3):
            assert i18n.gettext("A message nobody translated") == "A message nobody translated"
        assert i18n.ngettext("one thing nobody translated", "{n} things nobody translated",
                             2) == "{n} things nobody translated"
    said = [r.getMessage() for r in caplog.records if "nobody translated" in r.getMessage()]
    assert len(said) == 2 and "zh-CN" in said[0]


def test_an_unreadable_catalogue_shows_english_and_does_not_raise(monkeypatch, tmp_path,
                                                                   caplog) -> None:
    from sim.i18n import catalogue

    monkeypatch.setattr(catalogue, "LOCALE_DIR", tmp_path)         # no .po there
    monkeypatch.setattr(catalogue, "_catalogues", {})
    caplog.set_level(logging.WARNING, logger="sim.i18n.catalogue")
    assert catalogue.translate("Dispatch to a department", "zh-CN") == "Dispatch to a department"
    assert any("cannot read the zh-CN catalogue" in r.getMessage() for r in caplog.records)


def test_the_language_in_force_is_scoped() -> None:
    assert i18n.current() == "en"
    with i18n.use("zh-CN"):
        assert i18n.current() == "zh-CN" and i18n.gettext("Handbook") == "指挥手册"
        with i18n.use(None):
            assert i18n.current() == "zh-CN"
    assert i18n.current() == "en" and i18n.gettext("Handbook") == "Handbook"


def test_numbers_percentages_and_dates_per_language() -> None:
    day, moment = dt.date(2026, 11, 30), dt.datetime(2026, 11, 30, 9, 42)
    assert i18n.format_percent(0.7704, 1, "en") == "77.0%"
    assert i18n.format_percent(0.7704, 1, "zh-CN") == "77.0%"
    assert i18n.format_number(12345.5, "zh-CN") == "12,345.5"
    assert i18n.format_date(day, "en") == "30 Nov 2026"
    assert i18n.format_date(day, "zh-CN") == "2026年11月30日"
    assert i18n.format_weekday_time(moment, "en") == "Mon 09:42"
    assert i18n.format_weekday_time(moment, "zh-CN") == "周一 09:42"
    assert i18n.format_datetime(moment, "zh-CN") == "2026年11月30日 09:42"


def test_the_cli_refuses_an_unknown_language_plainly(capsys, monkeypatch) -> None:
    from sim.cli.commands import main

    assert main(["exercises", "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "gridloop: --lang: expected one of en (English), zh-CN (简体中文), " \
                          "got 'fr'"
    monkeypatch.setenv(i18n.ENV, "klingon")
    assert main(["exercises"]) == 2
    assert "GRIDLOOP_LANG: expected one of en (English), zh-CN" in capsys.readouterr().err


def test_the_cli_speaks_chinese_with_lang_or_the_environment(capsys, monkeypatch) -> None:
    from sim.cli.commands import main

    assert main(["exercises", "acceptor-first-morning", "--lang", "zh-CN"]) == 0
    out = capsys.readouterr().out
    assert "受理员岗位的第一个上午" in out and "难度 初级，岗位 受理员" in out
    assert "评分规则：准确性 60%" in out
    monkeypatch.setenv(i18n.ENV, "zh-CN")
    assert main(["exercises"]) == 0
    assert "派遣员岗位的第一个上午" in capsys.readouterr().out


# -- the data's own Chinese names --------------------------------------------------------------
def test_every_bundled_subclass_and_class_has_its_chinese_name_and_criteria() -> None:
    for path in sorted((ROOT / "scenarios" / "handbook").glob("*.yaml")):
        hb = load_handbook(path)
        assert all(c.name_zh for c in hb.classes), path
        lacking = [s.code for s in hb.subclasses
                   if not (s.name_zh and s.filing_criterion_zh and s.closing_criterion_zh)]
        assert not lacking, f"{path.name}: subclasses without Chinese: {lacking}"


def test_every_bundled_scenario_names_its_departments_in_chinese() -> None:
    from sim.data.scenario import load_scenario

    names = [p.stem for p in (ROOT / "scenarios").glob("*.yaml")] + [
        f"governance/{p.stem}" for p in (ROOT / "scenarios" / "governance").glob("*.yaml")]
    assert len(names) >= 8
    for name in names:
        sc = load_scenario(name)
        lacking = [d for d, spec in sc.departments.items() if not spec.name_zh]
        assert not lacking, f"{name}: departments without name_zh: {lacking}"


def test_every_bundled_exercise_is_written_in_both_languages() -> None:
    folder = ROOT / "training" / "exercises"
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data.get("title_zh") and data.get("briefing_zh"), path.name
        for inject in data.get("injects", ()):
            if inject.get("description"):
                assert inject.get("description_zh"), (path.name, inject)


def test_a_run_prints_its_summary_and_league_tables_in_chinese(tmp_path, capsys) -> None:
    from sim.cli.commands import main

    out = tmp_path / "run"
    assert main(["run", "small-town", "--days", "2", "--no-figure", "--out", str(out),
                 "--lang", "zh-CN"]) == 0
    text = capsys.readouterr().out
    for words in ("正在模拟 small-town", "立案数", "结案率", "专业部门：标准综合评价", "环卫",
                  "街道：标准综合评价", "排名", "等级"):
        assert words in text, words
    assert "cases filed" not in text and "sanitation" not in text
    assert main(["evaluate", str(out), "--rules", "three-rates", "--lang", "zh-CN"]) == 0
    assert "正在按 three-rates 对" in capsys.readouterr().out


def test_the_i18n_package_exports_are_pinned() -> None:
    assert sorted(i18n.__all__) == sorted([
        "LANGUAGES", "DEFAULT", "DOMAIN", "ENV", "LanguageError", "Message", "N_", "_",
        "gettext", "ngettext", "translate", "check_language", "negotiate", "current", "use",
        "js_catalogue", "local_name", "babel_locale", "format_number", "format_decimal",
        "format_percent", "format_date", "format_datetime", "format_weekday_time"])
    said = i18n.Message("no session {id}", id=7)
    assert str(said) == "no session 7" and said.text("zh-CN") == "没有编号为 7 的练习记录"
