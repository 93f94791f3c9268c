"""The console in a real browser: Playwright drives Debian's chromium (launched by path, no
`playwright install`) against a uvicorn server on 127.0.0.1. A trainee logs in, plays the
one-hour test exercise to its end and sees the feedback; the instructor sees it in the
class's progress; the trainee is refused the instructor pages.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from console_support import PASSWORD, SECRET, add_users, make_store, served
from test_console_sessions import ShortCore

from training.console.app import create_app

CHROMIUM = shutil.which("chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                       "(apt-get install -y chromium; .ci/run installs it)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="the playwright package is not installed (pip install -e '.[dev]')"),
]
# the first of these a card offers is taken: none needs a field filled in
ACTIONS = ("close", "send_check", "file", "verify", "void", "grant", "dispatch")


@pytest.fixture
def site(tmp_path):
    store = make_store("sqlite", tmp_path)
    ids = add_users(store, ann="instructor", bob="trainee")
    cid = store.add_class(ids["ann"], "Pilot A")
    store.add_member(cid, ids["bob"])
    store.assign(cid, "console-short", None)
    with served(create_app(store, SECRET, core=ShortCore())) as url:
        yield url, store
    store.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def log_in(page, url, name):
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def decide_everything(page):
    """Take every waiting card with the first action of `ACTIONS` it offers."""
    from playwright.sync_api import expect

    while page.locator("#queue li").count():
        card = page.locator("#queue li").first.get_attribute("data-card")
        page.locator("#queue li button").first.click()
        for action in ACTIONS:
            button = page.locator(f"#decision-actions button[data-action={action}]")
            if button.count():
                with page.expect_response(lambda r: "/decisions" in r.url) as got:
                    button.first.click()
                assert got.value.status == 201, got.value.text()
                break
        else:
            raise AssertionError("a card offered none of " + ", ".join(ACTIONS))
        if page.url.endswith("/result"):
            return
        expect(page.locator(f"#queue li[data-card='{card}']")).to_have_count(0)


def test_a_trainee_plays_to_the_end_and_the_instructor_sees_it(site, browser):
    from playwright.sync_api import expect

    url, store = site
    trainee = browser.new_page()
    log_in(trainee, url, "bob")
    assert trainee.url.endswith("/trainee")
    with trainee.expect_navigation():
        trainee.click("button:text-is('Start')")
    assert "/sessions/" in trainee.url
    assert trainee.locator("#grid-map rect.grid").count() == 120      # small-town's grids
    expect(trainee.locator("#clock")).to_have_text("Mon 09:00")   # the script's first poll

    trainee.fill("#handbook-q", "manhole")
    trainee.click("#handbook-form button")
    expect(trainee.locator("#handbook-results")).to_contain_text("C01-01")

    for _ in range(10):                       # 15 minutes a step through the one-hour window
        decide_everything(trainee)
        if trainee.url.endswith("/result"):
            break
        shown = trainee.locator("#clock").text_content()
        with trainee.expect_response(lambda r: "/step" in r.url):
            trainee.click("#steps button[data-minutes='15']")
        if store.session(1)["finished_at"] is not None:
            break                             # the page goes on to the feedback
        expect(trainee.locator("#clock")).not_to_have_text(shown)    # redrawn
        if trainee.locator("#queue li").count():
            assert trainee.locator("#grid-map rect.grid.hit").count() <= 1
    trainee.wait_for_url("**/result")
    text = trainee.locator("main").text_content()
    assert "Decisions in order" in text
    n = len(store.decisions_of(1))
    assert n > 0 and trainee.locator("main table.list").last.locator("tbody tr").count() == n
    graded = importlib.util.find_spec("training.grading") is not None
    if graded:
        g = store.grade(1)
        assert f"Score {g['score']:.1f}, grade {g['letter']}" in \
            trainee.locator("#grade").text_content()
        assert trainee.locator("#feedback tbody tr").count() >= 1
        assert "Rubric used" not in text
    else:
        assert "not graded yet" in text

    r = trainee.goto(f"{url}/instructor")
    assert r.status == 403 and "for instructors" in trainee.content()
    r = trainee.goto(f"{url}/instructor/classes/1/grades.csv")
    assert r.status == 403

    instructor = browser.new_context().new_page()
    log_in(instructor, url, "ann")
    assert instructor.url.endswith("/instructor")
    with instructor.expect_navigation():
        instructor.click("text=Pilot A")
    row = instructor.locator("#progress tbody tr").first
    assert "bob" in row.text_content() and "finished" in row.text_content()
    if graded:
        assert f"({store.grade(1)['letter']})" in row.text_content()
    with instructor.expect_navigation():
        row.locator("text=feedback").click()
    assert "Decisions in order" in instructor.locator("main").text_content()
    assert instructor.locator("main table.list").last.locator("tbody tr").count() == n


def test_a_trainee_plays_in_chinese_and_no_english_remains_on_the_desk(site, browser):
    """A Chinese browser (Accept-Language zh-CN, no account setting): the desk, its cards, the
    handbook search and the feedback are Chinese; the only Latin letters left are codes and
    the city's own place names (data)."""
    import re

    from playwright.sync_api import expect

    from sim.data.citymap import load_city
    from sim.data.scenario import load_scenario
    from sim.i18n.catalogue import po_file

    url, store = site
    sc = load_scenario("small-town")
    city = load_city(sc.resolve(sc.city.grids_file), sc.city.district_code)
    # what the data names (places, accounts, classes) is not UI text
    places = {w for name in (*city.subdistrict_names, *city.community_names, "bob", "Pilot A")
              for w in re.findall(r"[A-Za-z]+", name)}
    english = {m for m in re.findall(r'^msgid "(.+)"$', po_file("zh-CN").read_text("utf-8"),
                                     re.M) if len(re.findall(r"[A-Za-z]{3,}", m)) >= 1}

    def no_english(text: str) -> None:
        latin = {w for w in re.findall(r"[A-Za-z]{2,}", text)} - places - {"GridLoop"}
        assert not latin, f"English left on the page: {sorted(latin)}"
        shown = [m for m in english if re.search(rf"(?<![A-Za-z]){re.escape(m)}(?![A-Za-z])",
                                                 text)]
        assert not shown, shown

    trainee = browser.new_context(locale="zh-CN").new_page()
    log_in(trainee, url, "bob")
    assert trainee.locator("html").get_attribute("lang") == "zh-CN"
    no_english(trainee.locator("body").inner_text())
    with trainee.expect_navigation():
        trainee.click("button[data-action=start]")
    assert trainee.locator("html").get_attribute("lang") == "zh-CN"
    expect(trainee.locator("#clock")).to_have_text("周一 09:00")
    trainee.fill("#handbook-q", "井盖")
    trainee.click("#handbook-form button")
    expect(trainee.locator("#handbook-results")).to_contain_text("C01-01 上水井盖")
    expect(trainee.locator("#handbook-results")).to_contain_text("专业部门：水务")
    seen_card = False
    for _ in range(10):
        if trainee.url.endswith("/result"):
            break
        if trainee.locator("#queue li").count():
            trainee.locator("#queue li button").first.click()
            expect(trainee.locator("#card-fields")).to_be_visible()
            seen_card = True
            no_english(trainee.locator("#play").inner_text())    # the whole desk, card open
            decide_everything(trainee)
            if trainee.url.endswith("/result"):
                break
        no_english(trainee.locator("#play").inner_text())
        with trainee.expect_response(lambda r: "/step" in r.url):
            trainee.click("#steps button[data-minutes='15']")
        if store.session(1)["finished_at"] is not None:
            break
    assert seen_card
    trainee.wait_for_url("**/result")
    text = trainee.locator("main").inner_text()
    assert "决定记录（按顺序）" in text and "Decisions in order" not in text
    assert trainee.locator("html").get_attribute("lang") == "zh-CN"
