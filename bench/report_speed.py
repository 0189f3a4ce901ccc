"""How fast the HTML report is with many results: build, write, and open in Chromium.

Writes N real result folders (results.json + scores.parquet, the full published v1 core set:
23 subsets, 2,985 pairs each, token lengths included) with `tests/eval/result_folders.py`,
then times, side by side:
- load: reading the N folders (`eval.report_entry.load_entries`);
- render: building the page (`eval.html_report.render_report`), and its size;
- open: headless Chromium, navigation start to the load event, and to the first contentful paint;
- sort: one click on a leaderboard header until the rows are re-ordered (in the page's own clock).
Target (issue 17): opens fast with 50 results.

    .venv/bin/python bench/report_speed.py [--results 50] [--keep DIR]
    .venv/bin/python bench/report_speed.py --screenshot docs/report.png   # the README picture (3 results)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "eval"))

from rbkit.eval.sections import PUBLISHED_COUNTS  # noqa: E402
from result_folders import pair, three_results, write_result  # noqa: E402


def write_many(base: Path, n: int) -> list[Path]:
    out = []
    for m in range(n):
        skill = 0.55 + 0.4 * m / max(n - 1, 1)
        rows = []
        for subset, count in PUBLISHED_COUNTS.items():
            for i in range(count):
                h = int(hashlib.sha256(f"{m}/{subset}/{i}".encode()).hexdigest()[:12], 16)
                lc, lr = 30 + h % 400, 30 + (h >> 9) % 400
                right = (h >> 20) % 1000 < 1000 * skill
                margin = 0.1 + (h >> 30) % 100 / 40
                c, r = (margin, 0.0) if right else (0.0, margin)
                rows.append(pair(subset, str(i), c, r, (lc, lr)))
        out.append(write_result(base / f"model-{m:02d}", f"org/model-{m:02d}", rows, resamples=200))
    return out


def chromium(window: str = "1400,1000"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={window}"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=options)


def open_in_chromium(page: Path) -> dict[str, float]:
    drv = chromium()
    try:
        drv.get(page.as_uri())
        nav = drv.execute_script("const n = performance.getEntriesByType('navigation')[0];"
                                 "const p = performance.getEntriesByName('first-contentful-paint')[0];"
                                 "return [n.domContentLoadedEventEnd, n.loadEventEnd, p ? p.startTime : null];")
        sort_ms = drv.execute_script(
            "const th = document.querySelector('table.lb th[data-col=\"section:Safety\"]');"
            "const t0 = performance.now(); th.click(); return performance.now() - t0;")
        return {"dom_ms": nav[0], "load_ms": nav[1], "fcp_ms": nav[2] or float("nan"), "sort_ms": sort_ms}
    finally:
        drv.quit()


def screenshot(out: Path) -> None:
    """The three-result report (default model, tiny classifier, judge) as a small PNG."""
    from PIL import Image
    from rbkit.eval.compare import compare_many
    from rbkit.eval.html_report import render_report
    from rbkit.eval.report_entry import load_entries

    with tempfile.TemporaryDirectory() as tmp:
        folders = list(three_results(Path(tmp)))
        page = Path(tmp) / "report.html"
        page.write_text(render_report(load_entries(folders), compare_many(folders, resamples=500)), encoding="utf-8")
        drv = chromium("1280,1500")
        try:
            drv.get(page.as_uri())
            png = Path(tmp) / "shot.png"
            drv.save_screenshot(str(png))
        finally:
            drv.quit()
        img = Image.open(png).convert("RGB")
        img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS).quantize(colors=64)
        out.parent.mkdir(parents=True, exist_ok=True)
        img.save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=int, default=50)
    ap.add_argument("--keep", type=Path, help="write the result folders and the page here (kept)")
    ap.add_argument("--screenshot", type=Path, help="only write the README screenshot of the 3-result report")
    args = ap.parse_args()
    if args.screenshot:
        screenshot(args.screenshot)
        return
    from rbkit.eval.html_report import render_report
    from rbkit.eval.report_entry import load_entries

    base = args.keep or Path(tempfile.mkdtemp(prefix="rbkit-report-speed-"))
    t0 = time.perf_counter()
    folders = write_many(base, args.results)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    entries = load_entries(folders)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render_report(entries)
    t_render = time.perf_counter() - t0
    page = base / "report.html"
    page.write_text(html, encoding="utf-8")
    browser = open_in_chromium(page)
    rows = sum(len(e.rows) for e in entries)
    print(f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    print(f"{'results':>8} {'pairs':>8} {'write s':>8} {'load s':>7} {'render s':>9} {'page MiB':>9} "
          f"{'DOM ms':>7} {'load ms':>8} {'FCP ms':>7} {'sort ms':>8}")
    print(f"{len(entries):>8} {rows:>8} {t_write:>8.1f} {t_load:>7.2f} {t_render:>9.2f} {len(html) / 2**20:>9.2f} "
          f"{browser['dom_ms']:>7.0f} {browser['load_ms']:>8.0f} {browser['fcp_ms']:>7.0f} {browser['sort_ms']:>8.1f}")
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
