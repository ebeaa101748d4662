"""Open the built site in headless Chromium, as a reader would, and check every page of the table of
contents.

    python tools/check_site.py [_build/html]

Serves the folder on localhost, then for each page: it loads with a title; every image on it has
loaded (natural width > 0; images from other sites, which an offline build machine cannot reach, are
listed apart); no JavaScript errors in the console; each lesson has its Colab link; math has been
typeset; and the site's search finds a lesson by a word in it. A screenshot of each page goes to
_build/screenshots/. Exit code 0 when every check passes, 1 when one fails, 3 when no Chromium is
installed (`apt-get install chromium chromium-driver`).
"""

import functools
import http.server
import shutil
import sys
import threading
import time
from pathlib import Path

import yaml

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SEARCHES = {
    "spectrogram": "12_audio",
    "reparameterization": "13_vae",
    "rectified": "14_diffusion",
    "Ravuri": "15_augmentation",
}  # a word → the lesson it must find
site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html").resolve()
shots = site.parent / "screenshots"


def toc_pages() -> list[str]:
    "Paths (without .html) of every page in _toc.yml, the root first."
    toc = yaml.safe_load(Path("_toc.yml").read_text(encoding="utf-8"))
    parts = toc.get("parts", [{"chapters": toc.get("chapters", [])}])
    return [toc["root"]] + [
        chapter["file"] for part in parts for chapter in part.get("chapters", [])
    ]


OPENING = """
const main = document.querySelector('main') || document.body;
const headings = Array.from(main.querySelectorAll('h1, h2, h3'));
return {first: headings.length ? headings[0].tagName : null, text: main.innerText};
"""


def _opening_problems(driver) -> list[str]:
    "A page opens with its title; the Colab bootstrap cell (pip lines) is nowhere on it."
    opening, problems = driver.execute_script(OPENING), []
    if opening["first"] != "H1":
        problems.append(f"the first heading is {opening['first']}, not the page's title (H1)")
    if "Colab: install" in opening["text"] or '"pip", "install"' in opening["text"]:
        problems.append("the Colab bootstrap cell (pip install) is shown on the page")
    return problems


def main() -> int:
    if not (CHROMIUM and CHROMEDRIVER):
        print(
            """[site] no Chromium here (apt-get install chromium chromium-driver): the browser check
            did NOT run"""
        )
        return 3
    if not (site / "index.html").is_file():
        print(f"[site] no built site in {site}: run `make book` (or `make test`) first")
        return 1
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # one line per page below is enough
            pass

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    shots.mkdir(parents=True, exist_ok=True)
    failures, started = [], time.perf_counter()
    try:
        for page in toc_pages():
            url = f"{base}/{page}.html"
            driver.get(url)
            time.sleep(0.5)
            driver.execute_script(
                "window.scrollTo(0, document.body.scrollHeight)"
            )  # lazy images load too
            time.sleep(0.5)
            problems = []
            if not driver.title.strip() or "404" in driver.title:
                problems.append(f"title {driver.title!r}")
            broken = driver.execute_script(
                """return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth >
                0)).map(i => i.src)"""
            )
            local_broken = [src for src in broken if src.startswith(base)]
            if local_broken:
                problems.append(f"images not loaded: {local_broken}")
            errors = [
                entry["message"]
                for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE" and "colab-badge.svg" not in entry["message"]
            ]  # the badge lives on Colab's site (offline here)
            if errors:
                problems.append(f"console errors: {errors[:3]}")
            number = page[len("nbs/") :][:2]
            if (
                page.startswith("nbs/") and number.isdigit() and not 90 <= int(number) <= 93
            ):  # lessons and appendix
                if not driver.find_elements("css selector", "a[href*='colab.research.google.com']"):
                    problems.append("no Colab link")
            if page.startswith("nbs/") and number.isdigit():
                problems += _opening_problems(driver)
            formulas = driver.execute_script("return document.querySelectorAll('.math').length")
            if formulas:  # MathJax typesets each formula into an <mjx-container>
                for _ in range(20):
                    typeset = driver.execute_script(
                        "return document.querySelectorAll('mjx-container').length"
                    )
                    if typeset >= formulas:
                        break
                    time.sleep(0.25)
                if typeset < formulas:
                    problems.append(f"math not rendered: {typeset} of {formulas} formulas typeset")
            driver.save_screenshot(str(shots / (page.replace("/", "_") + ".png")))
            outside = len(broken) - len(local_broken)
            print(
                f"[site] {'ok  ' if not problems else 'FAIL'} {page}: {driver.title!r}"
                + (f" ({outside} image(s) from other sites not checked offline)" if outside else "")
                + "".join(f"\n         {problem}" for problem in problems)
            )
            failures += [(page, problem) for problem in problems]
        for (
            word,
            expected,
        ) in SEARCHES.items():  # the site's own search (Sphinx's index, in the browser)
            driver.get(f"{base}/search.html?q={word}")
            found = []
            for _ in range(40):
                found = driver.execute_script(
                    """return Array.from(document.querySelectorAll('ul.search li a')).map(a =>
                    a.getAttribute('href'))"""
                )
                if found:
                    break
                time.sleep(0.25)
            hit = any(expected in (link or "") for link in found)
            print(
                f"[site] {'ok  ' if hit else 'FAIL'} search {word!r}: {len(found)} result(s)"
                + ("" if hit else f", none of them {expected}")
            )
            if not hit:
                failures.append((f"search {word!r}", f"{expected} not among {found[:5]}"))
    finally:
        driver.quit()
        server.shutdown()
    print(
        f"[site] {len(toc_pages())} pages, {len(failures)} problem(s), "
        f"{time.perf_counter() - started:.0f} s; screenshots in {shots}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
