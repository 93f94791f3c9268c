"""The console in both languages: the account's setting (defaulting from Accept-Language),
the class's language, Chinese cards, handbook search and feedback, the scripts' catalogue,
an earlier database gaining the language columns, and bad languages refused plainly.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from console_support import SECRET, add_users, csrf_of, login, make_store
from fastapi.testclient import TestClient
from test_console_sessions import ShortCore, no_fields, post, setup

from training.console.app import create_app
from training.console.db import ConsoleStore

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def site(tmp_path):
    store = make_store("sqlite", tmp_path)
    cid, aid = setup(store, "console-short")
    app = create_app(store, SECRET, core=ShortCore())
    yield app, store, cid, aid
    store.close()


def client(app, headers=None) -> TestClient:
    return TestClient(app, raise_server_exceptions=True, headers=headers or {})


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def test_the_browser_language_is_the_default_and_the_account_setting_wins(site) -> None:
    app, store, _, _ = site
    c = client(app, ZH)
    page = c.get("/login").text
    assert html_lang(page) == "zh-CN" and "登录" in page and "Log in" not in page
    assert html_lang(client(app, {"Accept-Language": "en-GB"}).get("/login").text) == "en"
    token = login(c, "bob")
    page = c.get("/trainee").text
    assert html_lang(page) == "zh-CN" and "我的练习" in page and "控制台测试班次" in page
    # the account's own setting wins over the browser
    r = c.post("/account/language", data={"csrf": token, "lang": "en"}, follow_redirects=False)
    assert r.status_code == 303
    assert store.user_by_name("bob").lang == "en"
    page = c.get("/trainee").text
    assert html_lang(page) == "en" and "Your exercises" in page
    # and back to none: the browser's again
    c.post("/account/language", data={"csrf": token, "lang": ""})
    assert store.user_by_name("bob").lang is None
    assert html_lang(c.get("/trainee").text) == "zh-CN"


def test_the_login_page_offers_the_languages_and_keeps_the_choice(site) -> None:
    app, _, _, _ = site
    c = client(app, {"Accept-Language": "en"})
    page = c.get("/login?lang=zh-CN").text
    assert html_lang(page) == "zh-CN" and 'hreflang="en"' in page
    login(c, "bob")
    assert html_lang(c.get("/trainee").text) == "zh-CN"
    assert c.get("/login?lang=xx").status_code == 422


def test_an_unknown_account_or_class_language_is_refused_naming_the_languages(site) -> None:
    app, store, cid, _ = site
    c = client(app, {"Accept-Language": "en", "Accept": "application/json"})
    token = login(c, "bob")
    r = c.post("/account/language", data={"csrf": token, "lang": "fr"})
    assert r.status_code == 422
    assert r.json()["error"] == "lang: expected one of en, zh-CN or nothing (the default), " \
                                "got 'fr'"
    assert store.user_by_name("bob").lang is None
    zh = client(app, {**ZH, "Accept": "application/json"})
    token = login(zh, "ann")
    r = zh.post(f"/instructor/classes/{cid}/language", data={"csrf": token, "lang": "klingon"})
    assert r.status_code == 422 and r.json()["error"].startswith("lang：应为 en, zh-CN 之一")


def test_the_class_language_sets_its_trainees_desk_and_their_own_choice_wins(site) -> None:
    app, store, cid, aid = site
    teacher = client(app, {"Accept-Language": "en"})
    token = login(teacher, "ann")
    r = teacher.post(f"/instructor/classes/{cid}/language",
                     data={"csrf": token, "lang": "zh-CN"}, follow_redirects=False)
    assert r.status_code == 303 and store.class_(cid)["lang"] == "zh-CN"
    assert html_lang(teacher.get(f"/instructor/classes/{cid}").text) == "zh-CN"

    c = client(app, {"Accept-Language": "en"})      # an English browser in a Chinese course
    token = login(c, "bob")
    r = c.post(f"/trainee/assignments/{aid}/start", data={"csrf": token},
               follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    page = c.get(f"/sessions/{sid}").text
    assert html_lang(page) == "zh-CN" and "案卷卡片" in page and "你在受理员岗位值班" in page
    messages = json.loads(re.search(r'<script type="application/json" id="messages">(.*?)'
                                    r"</script>", page, re.S).group(1))
    assert messages["Next report ▸"] == "下一条上报 ▸" and messages["Step"] == "环节"
    state = post(c, token, f"/api/sessions/{sid}/step", {"minutes": 15}).json()
    assert state["clock"] == "周一 09:15" and state["lang"] == "zh-CN"
    card = state["pending"][0]
    assert "公众举报（12345）" in card["description"] and "上水井盖" in card["description"]
    assert "学校门口的井盖不见了" in card["description"]
    assert card["kind_label"] in ("核实", "立案") and card["channel_label"] == "公众举报（12345）"
    assert {o["action_label"] for o in card["options"]} <= {"派核实", "合并", "作废", "立案"}
    subclass = next(f for o in card["options"] for f in o["fields"] if f["name"] == "subclass") \
        if any(f["name"] == "subclass" for o in card["options"] for f in o["fields"]) else None
    if subclass is not None:
        assert "C01-01 上水井盖" in subclass["choice_labels"]
    found = c.get(f"/api/sessions/{sid}/handbook?q=井盖").json()["results"]
    assert found and found[0]["title"] == "上水井盖" and found[0]["department_label"] == "水务"
    assert found[0]["filing_criterion"].startswith("上水井盖缺失")
    assert found[0]["time_limit"] == "4 小时"

    # the trainee picks English on the account: the desk is written again in English
    c.post("/account/language", data={"csrf": token, "lang": "en"})
    state = c.get(f"/api/sessions/{sid}/state").json()
    assert state["clock"] == "Mon 09:15" and state["lang"] == "en"
    assert all("Public report (12345)" in p["description"] or "report" in p["description"]
               for p in state["pending"])
    assert [p["id"] for p in state["pending"]] == [p["id"] for p in
                                                   post(c, token, f"/api/sessions/{sid}/step",
                                                        {"minutes": 5}).json()["pending"]
                                                   if p["received_at"] <= state["now"]]


def test_a_chinese_trainee_gets_chinese_feedback_naming_the_handbook_rule(site) -> None:
    app, store, cid, aid = site
    store.set_class_language(cid, "zh-CN")
    c = client(app, {"Accept-Language": "en"})
    token = login(c, "bob")
    r = c.post(f"/trainee/assignments/{aid}/start", data={"csrf": token},
               follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    for _ in range(8):
        state = post(c, token, f"/api/sessions/{sid}/step", {"minutes": 15}).json()
        for card in state["pending"]:
            # verify each report, then void what verification confirmed: the filing
            # criterion of the subclass is broken
            action = {"verify": "verify", "file": "void"}.get(card["kind"], no_fields(card))
            post(c, token, f"/api/sessions/{sid}/decisions",
                 {"card_id": card["id"], "action": action})
        if state["finished"]:
            break
    page = c.get(f"/sessions/{sid}/result").text
    assert html_lang(page) == "zh-CN" and "逐项评阅" in page
    assert "上水井盖 的立案标准" in page             # the rule broken, as the handbook names it
    assert "上水井盖缺失、破裂、下沉或承重时晃动。" in page
    assert store.grade(sid)["detail"]["lang"] == "zh-CN"
    # the instructor's regrade keeps the language the trainee played in
    teacher = client(app, {"Accept-Language": "en"})
    t = login(teacher, "ann")
    teacher.post(f"/instructor/classes/{cid}/regrade", data={"csrf": t})
    assert store.grade(sid)["detail"]["lang"] == "zh-CN"


def test_refusals_come_in_the_readers_language(site) -> None:
    app, _, _, _ = site
    c = client(app, {**ZH, "Accept": "application/json"})
    assert c.get("/trainee").json() == {"error": "请先登录"}
    login(c, "bob")
    assert c.get("/instructor").json() == {"error": "此页面仅供教员使用；你当前以学员身份登录"}
    assert c.get("/api/sessions/99/state").json() == {"error": "你没有编号为 99 的练习记录"}
    assert c.get("/no/such/page").json() == {"error": "页面不存在"}


def test_an_earlier_database_gains_the_language_columns(tmp_path) -> None:
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:      # the tables as the first release made them
        conn.execute(sa.text("CREATE TABLE console_users (id INTEGER PRIMARY KEY, name "
                             "VARCHAR(64) NOT NULL UNIQUE, role VARCHAR(16) NOT NULL, "
                             "password_hash VARCHAR(255) NOT NULL, created_at DATETIME NOT "
                             "NULL)"))
        conn.execute(sa.text("CREATE TABLE console_classes (id INTEGER PRIMARY KEY, name "
                             "VARCHAR(120) NOT NULL, instructor_id INTEGER NOT NULL, "
                             "created_at DATETIME NOT NULL)"))
        conn.execute(sa.text("INSERT INTO console_users VALUES (1, 'old', 'trainee', 'x', "
                             "'2026-01-01')"))
    engine.dispose()
    store = ConsoleStore(str(path))
    assert store.user_by_name("old").lang is None
    store.set_language(1, "zh-CN")
    assert store.user(1).lang == "zh-CN"
    store.close()
    assert ConsoleStore(str(path)).user(1).lang == "zh-CN"      # opened again: no change


def test_users_add_sets_the_account_language(tmp_path, monkeypatch, capsys) -> None:
    import io

    from sim.cli import main

    db = str(tmp_path / "c.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "mei", "--role", "trainee", "--password-stdin", "--lang",
                 "zh-CN", "--db", db]) == 0
    assert ConsoleStore(db).user_by_name("mei").lang == "zh-CN"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["users", "add", "max", "--role", "trainee", "--password-stdin", "--lang",
                 "fr", "--db", db]) == 2
    assert "--lang: expected one of en (English), zh-CN (简体中文), got 'fr'" in \
        capsys.readouterr().err


def test_switching_language_does_not_change_what_is_decided(site) -> None:
    """The same decisions from a Chinese and an English desk: the same record."""
    app, store, _, aid = site
    add_users(store, cai="trainee")
    c = client(app, ZH)
    token = login(c, "bob")
    r = c.post(f"/trainee/assignments/{aid}/start", data={"csrf": token},
               follow_redirects=False)
    sid = int(r.headers["location"].rsplit("/", 1)[1])
    state = post(c, token, f"/api/sessions/{sid}/step", {"minutes": 30}).json()
    ids = [p["id"] for p in state["pending"]]
    assert ids and csrf_of(c.get("/login").text)
    c.headers["Accept-Language"] = "en"
    again = c.get(f"/api/sessions/{sid}/state").json()
    assert [p["id"] for p in again["pending"]] == ids and again["now"] == state["now"]


def test_a_postgresql_database_without_the_language_columns_gains_them(tmp_path) -> None:
    import os

    from console_support import PG_ENV

    store = make_store("postgres", tmp_path)         # skips without GRIDLOOP_TEST_PG
    with store.tx() as c:                            # as an earlier release left it
        c.execute(sa.text("ALTER TABLE console_users DROP COLUMN lang"))
        c.execute(sa.text("ALTER TABLE console_classes DROP COLUMN lang"))
    uid = add_users(store, old="trainee")["old"]
    store.close()
    again = ConsoleStore(os.environ[PG_ENV])
    assert again.user(uid).lang is None
    again.set_language(uid, "zh-CN")
    assert again.user_by_name("old").lang == "zh-CN"
    again.close()
