"""`rocket2 setup github` with a real headless browser (Debian's chromium, via Selenium): the
loopback page posts itself to the GitHub stand-in's form, the owner clicks Create, and the
browser comes back to the loopback page, which hands the code to the command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.dev.test_dev_page import CHROMEDRIVER, CHROMIUM, MISSING
from tests.setup.conftest import StandIns
from tests.setup.github_flow import finish, start_setup

WAIT_SECONDS = 20


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_loopback_page_github_and_back_in_a_real_browser(
    standins: StandIns, browser: webdriver.Chrome
):
    env = {"GITHUB_API_URL": standins.url + "/github", "GITHUB_OAUTH_URL": standins.url + "/github"}
    proc, page = start_setup(
        standins.directory,
        "--org",
        "rocket2-dev",
        "--public-url",
        "https://rocket.example.org",
        "--env-file",
        "browser.env",
        "--name",
        "Rocket 2 browser",
        env=env,
    )
    try:
        browser.get(page)  # the page submits its form to GitHub by itself
        wait = WebDriverWait(browser, WAIT_SECONDS)
        wait.until(expected_conditions.element_to_be_clickable((By.ID, "create"))).click()
        wait.until(expected_conditions.title_is("GitHub App created"))
        assert browser.current_url.startswith(page + "callback?code=")
        status, _out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status == 0, err
    values = dotenv_values(standins.directory / "browser.env")
    assert values["GITHUB_ORG_NAME"] == "rocket2-dev" and values["GITHUB_KEY"]
