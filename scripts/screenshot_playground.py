"""Take the README's screenshot of the playground (docs/assets/playground.png).

Starts `make run`'s playground in a temporary directory, runs the Quick start walk-through's
first commands, and saves the page as headless chromium shows it (Debian's chromium and
chromium-driver). From the repository root:
``.venv/bin/python scripts/screenshot_playground.py``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.support.playground import start_playground, stop_playground  # noqa: E402

OUT = REPO / "docs" / "assets" / "playground.png"
STEPS = (
    ("send", "/rocket user add"),
    ("promote",),
    ("send", "/rocket user edit --github you-on-github"),
    ("send", '/rocket team create --lead @you "Launch Pad"'),
    ("send", "/rocket team list"),
)


def main() -> int:
    """Take the screenshot; exit status 0 when it is saved."""
    with tempfile.TemporaryDirectory() as directory:
        playground = start_playground(Path(directory))
        try:
            for step in STEPS:
                if step[0] == "promote":
                    playground.rocket2("user", "promote", "U0DEVYOU01", "admin")
                else:
                    playground.send(step[1])
            options = webdriver.ChromeOptions()
            options.binary_location = str(shutil.which("chromium"))
            for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
                options.add_argument(flag)
            options.add_argument("--window-size=1280,800")
            driver = webdriver.Chrome(
                service=Service(str(shutil.which("chromedriver"))), options=options
            )
            try:
                driver.get(playground.standins_url + "/")
                team = (By.CSS_SELECTOR, '#teams [data-team="launch-pad"]')
                WebDriverWait(driver, 20).until(
                    expected_conditions.text_to_be_present_in_element(team, "you-on-github")
                )
                OUT.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(OUT))
            finally:
                driver.quit()
        finally:
            stop_playground(playground)
    print(f"saved {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
