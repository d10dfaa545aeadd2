"""The documentation pages work in a real browser with no network: headless Chromium loads
/docs, /redoc and GraphiQL from a live server on 127.0.0.1 and asks nothing of any other host.

Swagger UI renders every operation, refuses an anonymous call with 401 and, once authorized
with an API key, answers GET /v1/domains with 200 and the domain made beforehand.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from app.migrate import upgrade
from tests.helpers import bootstrap_key

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WAIT = 180  # seconds a condition may take on a loaded 2-core machine; never asserted as a time

pytestmark = [
    pytest.mark.no_registry,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A real uvicorn in development mode (GraphiQL on) on a migrated registry; (base URL, admin key)."""
    tmp = tmp_path_factory.mktemp("docs")
    url = f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    upgrade(url)

    key = asyncio.run(bootstrap_key(url))
    port = _port()
    env = {**os.environ, "YARDSTICK_DATABASE_URL": url, "YARDSTICK_ENVIRONMENT": "development",
           "YARDSTICK_SECRET_KEY": "docs-browser-test", "YARDSTICK_VAR_DIR": str(tmp)}
    log = tmp / "server.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()[-2000:])
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.2)
        made = httpx.post(f"{base}/v1/domains", json={"name": "finance"}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert made.status_code == 201, made.text
        yield base, key
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.fail("CI needs Debian's chromium and chromium-driver: .ci/run installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        # Any host but this machine fails to resolve: the test itself sends nothing outside.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


def _requested(driver) -> list[str]:
    """Every URL the page asked for since the last call (Chromium's network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _assert_local(urls: list[str], base: str) -> None:
    assert urls, "the network log recorded no request"
    outside = [u for u in urls if urlsplit(u).scheme not in ("data", "blob") and not u.startswith(base + "/")]
    assert not outside, f"requests left {base}: {outside}"


def _wait(driver, condition, what: str):
    """Poll until `condition(driver)` is truthy; a page still re-rendering only makes it poll again."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, WAIT, poll_frequency=0.25, ignored_exceptions=ignored).until(condition, message=what)


def _operations(base: str) -> set[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_swagger_ui_renders_authorizes_and_calls(server, browser):
    base, key = server
    _requested(browser)
    browser.get(f"{base}/docs")
    expected = _operations(base)

    def shown(d) -> set[tuple[str, str]]:
        return {tuple(pair) for pair in d.execute_script(
            "return [...document.querySelectorAll('.opblock')].map(b => "
            "[b.querySelector('.opblock-summary-method')?.textContent, b.querySelector('.opblock-summary-path')?.dataset.path])"
        )}

    _wait(browser, lambda d: shown(d) >= expected, "every operation of the contract rendered")

    def domains():
        return browser.find_element(By.CSS_SELECTOR, ".opblock-get:has(.opblock-summary-path[data-path='/v1/domains'])")

    def execute() -> tuple[str, str]:
        domains().find_element(By.CSS_SELECTOR, ".execute").click()
        row = _wait(browser, lambda d: domains().find_element(By.CSS_SELECTOR, ".live-responses-table tr.response"), "a live response")
        body = row.find_element(By.CSS_SELECTOR, ".response-col_description pre").text
        return row.find_element(By.CSS_SELECTOR, ".response-col_status").text.strip(), body

    domains().find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    _wait(browser, lambda d: domains().find_element(By.CSS_SELECTOR, ".try-out__btn"), "Try it out").click()
    _wait(browser, lambda d: domains().find_element(By.CSS_SELECTOR, ".execute"), "Execute")
    status, body = execute()
    assert status == "401" and "UNAUTHENTICATED" in body

    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".modal-ux input"), "the Authorize dialog").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .auth-btn-wrapper .authorize").click()
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".modal-ux button[aria-label='Remove authorization']"), "authorized")
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .btn-done").click()

    domains().find_element(By.CSS_SELECTOR, ".btn-clear").click()
    _wait(browser, lambda d: not domains().find_elements(By.CSS_SELECTOR, ".live-responses-table"), "the 401 cleared")
    status, body = execute()
    assert status == "200", body
    assert [d["name"] for d in json.loads(body)["items"]] == ["finance"]
    assert f"Authorization: Bearer {key}" in domains().find_element(By.CSS_SELECTOR, ".curl-command").text
    _assert_local(_requested(browser), base)


def test_redoc_renders_every_operation(server, browser):
    base, _ = server
    _requested(browser)
    browser.get(f"{base}/redoc")
    expected = {f"{method} {path}" for method, path in _operations(base)}

    def shown(d) -> set[str]:
        return set(d.execute_script(
            "return [...document.querySelectorAll('[data-section-id*=\"operation/\"]')]"
            ".map(s => s.querySelector('[class*=\"http-verb\"]'))"
            ".filter(Boolean).map(v => v.textContent.toUpperCase() + ' ' + v.nextElementSibling.textContent)"
        ))

    _wait(browser, lambda d: shown(d) >= expected, "every operation rendered")
    _assert_local(_requested(browser), base)


def test_graphiql_renders_and_answers(server, browser):
    base, key = server
    _requested(browser)
    browser.get(f"{base}/graphql")
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror"), "the query editor")

    def set_editor(selector: str, text: str) -> None:
        browser.execute_script("document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])", selector, text)

    set_editor(".graphiql-query-editor .CodeMirror", "{ domains { name } }")
    tab = "const t = [...document.querySelectorAll('.graphiql-editor-tools button')].find(b => b.textContent === 'Headers'); t?.click(); return !!t"
    _wait(browser, lambda d: d.execute_script(tab), "the Headers tab")
    headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, headers), "the headers editor")
    set_editor(headers, json.dumps({"Authorization": f"Bearer {key}"}))
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def answer(d):
        text = d.execute_script("const r = document.querySelector('.graphiql-response .CodeMirror'); return r && r.CodeMirror.getValue()")
        return text and json.loads(text)

    assert _wait(browser, answer, "a response") == {"data": {"domains": [{"name": "finance"}]}}
    _assert_local(_requested(browser), base)
