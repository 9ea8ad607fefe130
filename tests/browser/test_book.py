"""The built book as its readers meet it, in a real browser (``make browser-test``).

Playwright drives the system's Chromium (``CHROMIUM``) over the HTML in ``BOOK_HTML``: every
page renders its math and figures and shows no error, and every in-page control switches its
figure. Then JupyterLab runs chapter 0 at ``SCALE="ci"`` and a live widget's slider redraws its
figure. A screenshot of each page goes to ``BOOK_SCREENSHOTS``. Skipped unless ``BOOK_HTML``
names a built book.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

HTML = Path(os.environ.get("BOOK_HTML", "")).resolve() if os.environ.get("BOOK_HTML") else None
BOOK = Path(__file__).resolve().parents[2] / "book"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        HTML is None or not (HTML / "index.html").exists(), reason="BOOK_HTML: no built book"
    ),
]
SKIP = {"genindex.html", "search.html", "py-modindex.html", "index.html"}


def book_pages() -> list[str]:
    """The book's own pages (not Sphinx's index, search and module pages)."""
    if HTML is None or not HTML.exists():
        return []
    return sorted(p.name for p in HTML.glob("*.html") if p.name not in SKIP)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"),
            args=["--no-sandbox"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    page.close()


def open_page(page, name: str):
    # the pages are local files (a chapter is 1-3 MB with its in-page figures): wait for the
    # load event, generously, since a busy 2-core machine parses them slowly
    page.set_default_timeout(180_000)
    page.goto((HTML / name).as_uri(), wait_until="load")
    if page.locator(".math").count():  # MathJax typesets after load
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return page


@pytest.mark.parametrize("name", book_pages())
def test_page_renders_math_figures_and_no_errors(page, name):
    open_page(page, name)
    math = page.locator(".math").count()
    assert page.locator("mjx-container").count() >= math, "some math was not typeset"
    assert page.locator("mjx-merror").count() == 0, "MathJax reported an error"
    broken = page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src.slice(0, 80))"
    )
    assert not broken, f"figures that did not load: {broken}"
    scrolling = page.evaluate(
        "() => [...document.querySelectorAll('div.cell_input pre')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.slice(0, 60))"
    )
    assert not scrolling, f"code cells wider than the page: {scrolling}"
    errors = page.locator(".cell_output .traceback, .cell_output .output.error").count()
    assert errors == 0, "a cell shows an error"
    assert not page.errors, f"JavaScript errors: {page.errors}"
    shots = Path(os.environ.get("BOOK_SCREENSHOTS", HTML.parent / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name[:-5]}.png"))


@pytest.mark.parametrize("name", book_pages())
def test_every_in_page_control_switches_its_figure(page, name):
    """Each control, moved through its settings (the others at their defaults), shows another
    figure for at least one of them, and every figure it shows loads."""
    open_page(page, name)
    figures = page.locator(".page-figure")
    for i in range(figures.count()):
        figure = figures.nth(i)
        image = figure.locator("img")
        for j in range(figure.locator("[data-control]").count()):
            control = figure.locator("[data-control]").nth(j)
            start = control.evaluate("(e) => e.value")
            before = image.get_attribute("src")
            n = control.evaluate("(e) => e.tagName === 'SELECT' ? e.options.length : +e.max + 1")
            shown = set()
            for setting in range(n):  # as a reader would move it
                control.evaluate(
                    "(e, v) => { e.value = String(v); e.dispatchEvent(new Event('input')); }",
                    setting,
                )
                assert image.evaluate("(e) => e.complete && e.naturalWidth > 0")
                shown.add(image.get_attribute("src"))
            assert shown - {before}, f"figure {i} of {name}: control {j} never changes it"
            control.evaluate(
                "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", start
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a copy of the book (autosave never touches the repository's notebooks)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(BOOK, root / "book", ignore=shutil.ignore_patterns("_build"))
    port, token = free_port(), "book-browser-test"
    env = {**os.environ, "BOOK_SCALE": "ci", "BOOK_SEED": "0", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root / 'book'}",
    ]
    if os.geteuid() == 0:  # containers and CI machines run as root
        command.append("--allow-root")
    log = open(root / "jupyterlab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        server.kill()
        pytest.fail(f"JupyterLab did not start: {(root / 'jupyterlab.log').read_text()[-2000:]}")
    yield f"{url}/lab/tree/00_toolkit.ipynb?token={token}"
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_a_live_widget_redraws_in_jupyterlab(browser, jupyterlab):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    shots = Path(os.environ.get("BOOK_SCREENSHOTS", HTML.parent / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(jupyterlab)
        # the kernel is ready once the status bar names it idle
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=300_000)
        page.locator("[data-command='notebook:restart-run-all']").first.click()
        page.locator(".jp-Dialog .jp-mod-accept").click()  # "Restart the kernel and run all?"
        page.locator(".jp-InputPrompt", has_text="[1]").first.wait_for(timeout=300_000)
        slider = page.locator(".widget-slider .noUi-handle").first
        slider.wait_for(timeout=900_000)  # the chapter runs at SCALE="ci"
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=900_000)
        panel = page.locator(".widget-vbox").filter(has=page.locator(".widget-slider")).first
        drawn = panel.locator(".widget-output img")
        assert drawn.count() == 0  # the panel draws nothing until a change
        slider.scroll_into_view_if_needed()
        slider.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        drawn.first.wait_for(timeout=120_000)
        assert drawn.first.evaluate("(e) => e.complete && e.naturalWidth > 0")
        panel.screenshot(path=str(shots / "jupyterlab-live-widget.png"))
    finally:
        page.screenshot(path=str(shots / "jupyterlab.png"))
        page.close()
