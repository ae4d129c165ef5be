"""The Space in a real headless chromium (Playwright): chat, code and output rendering, stop, Browse.

Screenshots go to the test's tmp dir (chat.png, stopped.png, browse.png). Skips with the reason when
Playwright or a chromium binary is missing (`.ci/run` installs chromium on Debian)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.space_doubles import CODE_QUESTION, LONG_QUESTION

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = os.environ.get("R1CI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(space_datasets):  # the datasets first: Playwright's sync API keeps an event loop running in this thread
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        yield page
        browser.close()


def _ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def test_chat_streams_code_and_output_and_stop_kills_a_long_snippet(page, space_url, tmp_path):
    page.goto(space_url)
    _ask(page, CODE_QUESTION)
    chat = page.locator("#chat")
    chat.get_by_text("Final answer").wait_for(timeout=30_000)
    # the code block is highlighted code, its output (really executed: 5! = 120) is nested under it
    code = chat.locator("pre code", has_text="math.factorial")
    assert code.count() == 1 and code.locator("span").count() > 0  # highlighter tokens
    assert chat.get_by_text("42 120").is_visible()
    assert chat.get_by_text("Code · call 1").is_visible() and chat.get_by_text("Output").first.is_visible()
    assert page.locator("#question textarea").input_value() == ""  # the box is cleared for the next question
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)

    _ask(page, LONG_QUESTION)
    chat.get_by_text("Running…").wait_for(timeout=30_000)
    started = time.monotonic()
    page.locator("#stop").click()
    chat.get_by_text("Stopped by the user.").wait_for(timeout=10_000)
    assert time.monotonic() - started < 10
    assert chat.get_by_text("Code (stopped while running)").is_visible()
    assert chat.get_by_text("finished", exact=True).count() == 0  # the snippet never got to print
    page.screenshot(path=str(tmp_path / "stopped.png"), full_page=True)

    _ask(page, CODE_QUESTION)  # the session recovers: a fresh sandbox runs the next question
    chat.get_by_text("Final answer").nth(1).wait_for(timeout=30_000)
    assert chat.get_by_text("42 120").count() == 2


def test_browse_opens_a_local_dataset_filters_and_renders_hostile_text_inert(page, space_url, space_datasets, tmp_path):
    page.goto(space_url)
    page.get_by_role("tab", name="Browse").click()
    page.locator("#browse-source textarea, #browse-source input").first.fill(str(space_datasets["rollouts"]))
    page.locator("#browse-open").click()
    page.locator("#browse-status").get_by_text("Opened 6 transcripts").wait_for(timeout=30_000)
    counts = page.locator("#browse-counts")
    assert counts.get_by_text("reasoning_gym/prime_factorization").count() >= 1
    view = page.locator("#browse-view")
    view.get_by_text("Verdict: correct").wait_for(timeout=10_000)  # transcript #0 is shown at once

    page.locator("#browse-verdict").get_by_text("wrong", exact=True).click()
    page.locator("#browse-status").get_by_text("3 match the filters").wait_for(timeout=10_000)
    page.locator("#browse-picker input").click()
    page.get_by_role("option", name="hostile-1").click()
    view.get_by_text("Look:").wait_for(timeout=10_000)
    assert view.get_by_text("Verdict: wrong").is_visible()
    # model-written HTML and images stay text: nothing loads from the model's URL, no script runs
    assert page.locator("img[src*='evil.invalid']").count() == 0
    assert view.get_by_text('<img src="http://evil.invalid/track.png"', exact=False).count() == 1
    page.wait_for_timeout(300)
    assert page.dialogs == []
    page.screenshot(path=str(tmp_path / "browse.png"), full_page=True)
    assert Path(tmp_path / "browse.png").stat().st_size > 10_000
