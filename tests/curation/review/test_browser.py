"""End to end in headless Chromium: sign in, find a pair, label it, submit; pull sees it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rbkit.curation.review.pull import pull
from rbkit.curation.review.push import push
from rbkit.curation.trio_io import read_rows

from tests.curation.review.conftest import Live, by_text, fixture_rows
from tests.resources import require

pytestmark = [pytest.mark.argilla, pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    require("chromium and chromium-driver", binary is not None and driver_path is not None, "run scripts/install-review-deps")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = binary
    driver = webdriver.Chrome(service=Service(driver_path), options=options)  # explicit paths: no downloads
    try:
        yield driver
    finally:
        driver.save_screenshot(str(tmp_path / "last-page.png"))  # kept by pytest for a failing run
        driver.quit()


def test_a_curator_labels_a_pair_in_the_ui_and_pull_applies_it(live_argilla: Live, build_dir: Path, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ws = live_argilla.workspace()
    target = live_argilla.target(ws)
    push(build_dir, target, subsets=["llmbar-natural"])
    capital = by_text(fixture_rows(), "Australia")
    driver, wait = chromium, WebDriverWait(chromium, 60)

    driver.get(f"{live_argilla.url}/sign-in")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
    username, password = driver.find_elements(By.CSS_SELECTOR, "input")[:2]
    username.send_keys(live_argilla.owner_username)
    password.send_keys(live_argilla.owner_password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "sign-in" not in d.current_url)

    driver.get(f"{live_argilla.url}/dataset/{live_argilla.dataset_id(ws, 'llmbar-natural')}/annotation-mode")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "label[for=label_rejected]")))
    search = driver.find_element(By.CSS_SELECTOR, "input[type=text]")
    driver.execute_script("arguments[0].focus()", search)
    search.send_keys("Australia", Keys.ENTER)  # answered by rbkit's search engine
    shown = lambda d: d.find_element(By.TAG_NAME, "body").text  # noqa: E731 (rendered text, not markup)
    wait.until(lambda d: "Sydney is the capital of Australia." in shown(d) and "of 1\n" in shown(d))

    driver.find_element(By.CSS_SELECTOR, "label[for=label_rejected]").click()
    comment = driver.find_element(By.CSS_SELECTOR, "[aria-label='Question: comment'] [contenteditable=true]")
    comment.click()
    comment.send_keys("Canberra is the capital")
    submit = wait.until(ec.element_to_be_clickable((By.XPATH, "//button[@type='submit'][contains(., 'Submit')]")))
    submit.click()

    deadline = time.monotonic() + 60
    while True:
        record = {r["external_id"]: r for r in live_argilla.records(ws, "llmbar-natural")}[str(capital.id)]
        if any(r["status"] == "submitted" for r in record["responses"]):
            break
        assert time.monotonic() < deadline, "the UI's submission never reached the server"
        time.sleep(0.5)

    report = pull(build_dir, target)
    assert report.subsets["llmbar-natural"].decided == {"rejected": 1}
    row = {r.id: r for r in read_rows(build_dir / "data" / "llmbar-natural.parquet")}[capital.id]
    assert row.chosen == "The capital of Australia is Canberra."
    review = row.provenance.review
    assert (review.status, review.reviewer, review.comment) == ("edited", live_argilla.owner_username, "Canberra is the capital")
