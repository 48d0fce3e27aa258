"""The playground page in a real browser (Debian's chromium and chromium-driver, via Selenium):
type a command, see its Block Kit reply rendered, and see the GitHub view change. One
screenshot per run is kept under artifacts/ (the path is printed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support import playground as playground_support
from tests.support.gunicorn import REPO
from tests.support.playground import Playground

playground = playground_support.playground
# Debian's chromium first; Google's Chrome where chromium is a snap shim (Ubuntu CI runners).
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "google-chrome", "google-chrome-stable"))), None
)
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOT = REPO / "artifacts" / "dev-page.png"
WAIT_SECONDS = 20

MISSING = "needs Debian's chromium and chromium-driver (scripts/install-system.sh)"


@pytest.fixture(autouse=True)
def _needs_a_browser() -> None:
    """Skip where there is no browser, except in CI, where this test must run."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)


@pytest.fixture
def browser(_needs_a_browser: None, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,1000")
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def type_command(browser: webdriver.Chrome, text: str, who: str = "@you") -> None:
    """Type ``text`` as ``who`` and send it (again if the page re-rendered the form meanwhile)."""

    def typed(browser: webdriver.Chrome) -> bool:
        Select(browser.find_element(By.ID, "as")).select_by_visible_text(who)
        box = browser.find_element(By.ID, "command")
        box.clear()
        box.send_keys(text)
        browser.find_element(By.ID, "send").click()
        return True

    stale = (StaleElementReferenceException,)
    WebDriverWait(browser, WAIT_SECONDS, ignored_exceptions=stale).until(typed)


def test_type_a_command_see_the_reply_and_the_github_view_change(
    playground: Playground, browser: webdriver.Chrome
):
    wait = WebDriverWait(browser, WAIT_SECONDS)
    browser.get(playground.standins_url + "/")
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "org"), "rocket2-dev"))

    type_command(browser, "/rocket help")
    header = (By.CSS_SELECTOR, "#commands .entry .bot .block-header")
    wait.until(expected_conditions.text_to_be_present_in_element(header, "Rocket 2 commands"))
    reply = browser.find_element(By.CSS_SELECTOR, "#commands .entry .bot")
    assert reply.find_elements(By.CSS_SELECTOR, ".block-context")  # the context block
    assert reply.find_elements(By.TAG_NAME, "code")  # `…` rendered as code, not backticks
    assert "`" not in reply.text

    playground.send("/rocket user add")
    promoted = playground.rocket2("user", "promote", "U0DEVYOU01", "admin")
    assert promoted.returncode == 0, promoted.stderr
    playground.send("/rocket user edit --github you-on-github")
    type_command(browser, '/rocket team create --lead @you "Launch Pad"')
    team = (By.CSS_SELECTOR, '#teams [data-team="launch-pad"]')
    wait.until(expected_conditions.text_to_be_present_in_element(team, "you-on-github"))
    assert "maintainer" in browser.find_element(*team).text
    created = (By.CSS_SELECTOR, "#commands .entry:first-child .bot")
    wait.until(expected_conditions.text_to_be_present_in_element(created, "Created team"))
    assert "@you" in browser.find_element(*created).text  # <@U…> shown as the member's name

    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    print(f"screenshot of the playground page: {SCREENSHOT}")


def test_link_an_account_through_the_authorize_page(
    playground: Playground, browser: webdriver.Chrome
):
    wait = WebDriverWait(browser, WAIT_SECONDS)
    browser.get(playground.standins_url + "/")
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "org"), "rocket2-dev"))
    type_command(browser, "/rocket user add")
    replies = (By.ID, "commands")
    wait.until(expected_conditions.text_to_be_present_in_element(replies, "member record"))
    type_command(browser, "/rocket user link")
    link = (By.CSS_SELECTOR, "#commands a[href*='/login/oauth/authorize']")
    wait.until(expected_conditions.presence_of_element_located(link))
    browser.get(browser.find_element(*link).get_attribute("href") or "")

    Select(wait.until(lambda b: b.find_element(By.ID, "login"))).select_by_visible_text(
        "you-on-github"
    )
    browser.find_element(By.ID, "authorize").click()  # back to Rocket 2's PUBLIC_URL
    wait.until(expected_conditions.title_contains("Confirm the link"))
    username = browser.find_element(By.ID, "to-type").text  # typed, as the page asks
    browser.find_element(By.NAME, "typed").send_keys(username)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    body = (By.TAG_NAME, "body")
    wait.until(
        expected_conditions.text_to_be_present_in_element(
            body, "now linked to the GitHub account you-on-github"
        )
    )
