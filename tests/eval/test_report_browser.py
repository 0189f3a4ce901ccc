"""The HTML report in a real headless Chromium: it draws, holds the files' numbers, sorts, and
fetches nothing."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rbkit.eval.compare import compare_many
from rbkit.eval.html_report import render_report
from rbkit.eval.report_entry import load_entries
from result_folders import rb2_result, three_results

from tests.resources import require

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    base = tmp_path_factory.mktemp("browser")
    folders = [*three_results(base), rb2_result(base)]
    page = base / "report.html"
    page.write_text(render_report(load_entries(folders), compare_many(folders[:3], resamples=200)), encoding="utf-8")
    return page, folders


@pytest.fixture(scope="module")
def driver(report) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    require("chromium and chromium-driver", binary is not None and driver_path is not None, "run scripts/install-review-deps")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=options)  # explicit paths: no downloads
    try:
        drv.get(report[0].as_uri())
        yield drv
    finally:
        drv.quit()


def test_the_page_draws_something(driver):
    from PIL import Image, ImageStat

    img = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L")
    assert ImageStat.Stat(img).var[0] > 200  # a blank or one-colour page has ~0
    assert len(img.getcolors(maxcolors=1 << 16) or []) > 20
    charts = driver.execute_script("return Array.from(document.querySelectorAll('[data-chart] svg'))"
                                   ".filter(s => s.getBoundingClientRect().width > 100).length")
    assert charts >= 18


def test_every_part_is_laid_out(driver):
    heights = driver.execute_script(
        "const q = s => Array.from(document.querySelectorAll(s)).map(e => e.getBoundingClientRect().height);"
        "return {lb: q('table.lb'), length: q('td[data-group]'), ties: q('#ties-table'), judge: q('#judge-table'),"
        " bon: q('#bon-table'), forest: q('.comparison svg'), scatter: q('details[open] svg')};")
    assert len(heights["lb"]) == 2 and len(heights["forest"]) == 3 and len(heights["scatter"]) == 3
    assert all(h > 10 for part in heights.values() for h in part) and all(heights.values())


def test_leaderboard_cells_show_the_numbers_of_the_result_files(driver, report):
    from selenium.webdriver.common.by import By

    for folder in report[1][:3]:
        res = json.loads((folder / "results.json").read_text())
        row = driver.find_element(By.CSS_SELECTOR, f'table.lb tr[data-model="{res["model"]["id"]}"]')
        for name, o in res["overall"].items():
            text = row.find_element(By.CSS_SELECTOR, f'td[data-col="overall:{name}"]').text
            lo, hi = o["ci95"]
            assert text.split() == [f"{100 * o['value']:.1f}*", f"{100 * lo:.1f}–{100 * hi:.1f}"]
        for name, s in res["subsets"].items():
            text = row.find_element(By.CSS_SELECTOR, f'td[data-col="subset:{name}"]').text
            assert text.split()[0] == f"{100 * s['accuracy']:.1f}"


def _order(driver) -> list[str]:
    return driver.execute_script("return Array.from(document.querySelectorAll('table.lb')[0].tBodies[0].rows)"
                                 ".map(r => r.dataset.model)")


def test_clicking_a_column_header_sorts_the_rows(driver, report):
    from selenium.webdriver.common.by import By

    results = [json.loads((f / "results.json").read_text()) for f in report[1][:3]]
    safety = {r["model"]["id"]: r["sections"]["Safety"]["score"] for r in results}
    header = driver.find_element(By.CSS_SELECTOR, 'table.lb th[data-col="section:Safety"]')
    header.click()
    assert _order(driver) == sorted(safety, key=lambda m: -safety[m]) and header.get_attribute("aria-sort") == "descending"
    header.click()
    assert _order(driver) == sorted(safety, key=lambda m: safety[m]) and header.get_attribute("aria-sort") == "ascending"
    driver.find_element(By.CSS_SELECTOR, 'table.lb th[data-col="model"]').click()
    assert _order(driver) == sorted(safety, reverse=True)


def test_the_page_makes_no_network_request(driver, report):
    events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    urls = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert urls and all(u == report[0].as_uri() for u in urls), urls
    csp = driver.execute_script(
        "return document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
    assert csp.startswith("default-src 'none'")
