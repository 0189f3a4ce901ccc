"""What a curator's browser shows of a blind record: the answers, never the label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rbkit.curation.review.push import push

from tests.curation.review.conftest import Live, by_text, fixture_rows
from tests.curation.review.test_browser import chromium  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.argilla, pytest.mark.browser, pytest.mark.slow]


def test_the_annotation_page_of_a_blind_record_names_no_side(live_argilla: Live, build_dir: Path, chromium):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ws = live_argilla.workspace()
    push(build_dir, live_argilla.target(ws), subsets=["xstest-should-refuse"], blind=True)
    row = by_text(fixture_rows(), "kill a person")
    driver, wait = chromium, WebDriverWait(chromium, 60)
    driver.get(f"{live_argilla.url}/sign-in")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
    username, password = driver.find_elements(By.CSS_SELECTOR, "input")[:2]
    username.send_keys(live_argilla.owner_username)  # the owner sees the most (all metadata)
    password.send_keys(live_argilla.owner_password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "sign-in" not in d.current_url)

    driver.get(f"{live_argilla.url}/dataset/{live_argilla.dataset_id(ws, 'xstest-should-refuse')}/annotation-mode")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "label[for=label_a]")))
    search = driver.find_element(By.CSS_SELECTOR, "input[type=text]")
    driver.execute_script("arguments[0].focus()", search)
    search.send_keys("kill", Keys.ENTER)
    shown = lambda d: d.find_element(By.TAG_NAME, "body").text  # noqa: E731
    wait.until(lambda d: row.chosen in shown(d) and row.rejected in shown(d))
    page = shown(driver)
    assert "Answer A" in page and "Answer B" in page
    assert re.findall(r"chosen|rejected|labelled", page, re.IGNORECASE) == []
