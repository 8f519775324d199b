"""The console end to end, in a real headless Chromium driven by Selenium, against a real ``chatdb serve``
with its console: sign in, add the sample shop, train it watching the progress bar move, ask a question and
see rows and a chart, give feedback and find it in the history, open the analytics and the status. Bad input
(a wrong key, a bad DSN, unsafe SQL) shows a clear line on the page; a POST without the CSRF token is refused;
every control has an accessible name. A PNG of every screen goes to ``CHATDB_CONSOLE_SCREENSHOTS`` (else the
test's temporary directory)."""

from __future__ import annotations

import base64
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from chatdb_server.samples.shop import build_shop_database
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("needs Debian's chromium and chromium-driver (make test installs them)", allow_module_level=True)

WAIT_S = 120
QUESTION = "How many orders were placed in each city?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServerProcess]]:
    """``chatdb serve`` with its console on a free port; yields the console's URL and the server."""
    data_dir = tmp_path_factory.mktemp("console-data")
    port = free_port()
    server = ServerProcess(data_dir, env={"CHATDB_CONSOLE_PORT": str(port)})
    with server:
        WebDriverWait(server, WAIT_S).until(lambda s: any('"console.started"' in line for line in s.log_lines))
        yield f"http://127.0.0.1:{port}", server


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample shop database, outside the server's data directory."""
    return build_shop_database(tmp_path_factory.mktemp("shop") / "shop.db")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("CHATDB_CONSOLE_SCREENSHOTS", "")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def wait(browser: WebDriver) -> WebDriverWait:
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.05)


def snap(browser: WebDriver, shots: Path, name: str) -> Path:
    """A full-page PNG of the screen."""
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = shots / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def alert_text(browser: WebDriver) -> str:
    return wait(browser).until(seen.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]"))).text


def unnamed_controls(browser: WebDriver) -> list[str]:
    """The visible inputs, selects, textareas and buttons without an accessible name."""
    controls: list[WebElement] = browser.find_elements(By.CSS_SELECTOR, "input, select, textarea, button")
    return [c.get_attribute("outerHTML")[:120] for c in controls
            if c.get_attribute("type") != "hidden" and not c.accessible_name.strip()]


def sign_in(browser: WebDriver, url: str, key: str) -> None:
    browser.get(f"{url}/signin")
    field = browser.find_element(By.ID, "api_key")
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def test_a_wrong_key_is_refused_on_the_page(console: tuple[str, ServerProcess], browser: WebDriver,
                                            shots: Path) -> None:
    url, _ = console
    sign_in(browser, url, "cdb_not-a-real-key")
    assert "UNAUTHENTICATED" in alert_text(browser)
    assert browser.current_url.endswith("/signin")
    assert unnamed_controls(browser) == []
    snap(browser, shots, "00-signin-wrong-key")


def test_the_journey(console: tuple[str, ServerProcess], browser: WebDriver, shots: Path, shop: Path) -> None:
    url, server = console
    sign_in(browser, url, server.admin_key)
    wait(browser).until(seen.url_contains("/connect"))

    # Connect: a bad DSN says what to fix; the sample shop is added and its discovery shown.
    browser.find_element(By.ID, "dsn").send_keys("postgresql://nobody@127.0.0.1:1/nothing")
    browser.find_element(By.XPATH, "//button[normalize-space()='Test connection']").click()
    assert "SOURCE_UNREACHABLE" in alert_text(browser)
    snap(browser, shots, "01-connect-bad-dsn")
    dsn = browser.find_element(By.ID, "dsn")
    dsn.clear()
    dsn.send_keys(f"sqlite:///{shop}")
    browser.find_element(By.ID, "display_name").send_keys("Sample shop")
    browser.find_element(By.ID, "data_source_id").send_keys("shop")
    browser.find_element(By.XPATH, "//button[normalize-space()='Add data source']").click()
    found = wait(browser).until(seen.visibility_of_element_located((By.ID, "discovered")))
    assert "orders" in found.text and "customers" in found.text
    assert unnamed_controls(browser) == []
    snap(browser, shots, "02-connect")

    # Tables: the library, its join graph (declared edges drawn solid) and the tables picked for training.
    browser.get(f"{url}/tables?source=shop")
    assert browser.find_elements(By.CSS_SELECTOR, "#join-graph line.declared")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#tables tbody tr")) >= 5
    assert unnamed_controls(browser) == []
    snap(browser, shots, "03-tables")
    browser.find_element(By.ID, "train").click()

    # Processing: the progress bar moves under server-sent events until the job succeeds.
    wait(browser).until(seen.url_contains("/processing/"))
    panel = browser.find_element(By.ID, "job-panel")
    observed: list[str] = []

    def finished(_: WebDriver) -> bool:
        # Finished first, then the value: read the other way round, the last job event and the end could both
        # land between the two reads, and the value read would not be the final one.
        done = panel.get_attribute("data-finished") == "1"
        value = browser.find_element(By.ID, "job-progress").get_attribute("value") or ""
        if not observed or observed[-1] != value:
            observed.append(value)
        return done

    wait(browser).until(finished)
    assert len(set(observed)) >= 2, observed
    assert observed[-1] == "100"
    assert panel.find_element(By.CSS_SELECTOR, "[data-field=state]").text == "succeeded"
    assert unnamed_controls(browser) == []
    snap(browser, shots, "04-processing")

    # Tables again: semantic search over the trained source.
    browser.get(f"{url}/tables?source=shop")
    browser.find_element(By.ID, "search-words").send_keys("customers and their orders")
    browser.find_element(By.XPATH, "//button[normalize-space()='Search']").click()
    matches = wait(browser).until(seen.visibility_of_element_located((By.ID, "search-matches")))
    assert "orders" in matches.text

    # Ask: rows and a chart; feedback.
    browser.get(f"{url}/ask?source=shop")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-button").click()
    rows = wait(browser).until(seen.visibility_of_all_elements_located((By.CSS_SELECTOR, "#rows tbody tr")))
    assert len(rows) >= 2
    wait(browser).until(seen.presence_of_element_located((By.CSS_SELECTOR, "canvas[data-chart][data-drawn]")))
    assert "SELECT" in browser.find_element(By.ID, "sql").get_attribute("value").upper()
    assert browser.find_element(By.ID, "answer-text").text.endswith(".")  # the server's one-sentence answer
    assert unnamed_controls(browser) == []
    snap(browser, shots, "05-ask")
    browser.find_element(By.ID, "thumbs-up").click()
    thanks = wait(browser).until(seen.visibility_of_element_located(
        (By.CSS_SELECTOR, "#feedback-result [role=status]")))
    assert "recorded as correct" in thanks.text

    # History: the feedback is there, and the analytics are drawn as charts.
    browser.get(f"{url}/history?source=shop")
    assert "correct" in browser.find_element(By.ID, "history").text
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "canvas[data-drawn]")) >= 4)
    assert "Asks over time" in browser.find_element(By.ID, "analytics").text
    assert unnamed_controls(browser) == []
    snap(browser, shots, "06-history")

    # Status: the degradation level and every dependency.
    browser.get(f"{url}/status")
    dependencies = browser.find_element(By.ID, "dependencies").text
    assert "metadata" in dependencies and "healthy" in dependencies
    assert browser.find_elements(By.CSS_SELECTOR, "#models tbody tr")
    snap(browser, shots, "07-status")


def test_unsafe_sql_is_refused_by_the_guard(console: tuple[str, ServerProcess], browser: WebDriver,
                                            shots: Path) -> None:
    url, _ = console
    browser.get(f"{url}/ask?source=shop")
    browser.find_element(By.ID, "question").send_keys("How many customers are there?")
    browser.find_element(By.ID, "ask-button").click()
    sql = wait(browser).until(seen.visibility_of_element_located((By.ID, "sql")))
    sql.clear()
    sql.send_keys("DELETE FROM customers")
    browser.find_element(By.XPATH, "//button[normalize-space()='Run SQL']").click()
    assert "UNSAFE_SQL" in alert_text(browser)
    snap(browser, shots, "08-ask-unsafe-sql")


def test_a_post_without_the_csrf_token_is_refused(console: tuple[str, ServerProcess], browser: WebDriver) -> None:
    url, _ = console
    browser.get(f"{url}/ask?source=shop")
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const body = new URLSearchParams({source: 'shop', question: 'How many customers are there?'});"
        "fetch('/ask', {method: 'POST', body, credentials: 'same-origin'}).then(r => done(r.status));")
    assert status == 403


@pytest.mark.parametrize(("chosen", "starts"), [("csv", b"id,name"), ("parquet", b"PAR1")])
def test_exports_download_the_full_result(console: tuple[str, ServerProcess], browser: WebDriver, chosen: str,
                                          starts: bytes) -> None:
    url, _ = console
    browser.get(f"{url}/ask?source=shop")
    token = browser.find_element(By.NAME, "csrf_token").get_attribute("value")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    form = {"csrf_token": token, "source": "shop", "sql": "SELECT id, name FROM customers", "format": chosen}
    download = httpx.post(f"{url}/ask/export", data=form, cookies=cookies, timeout=60)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f'attachment; filename="shop-result.{chosen}"'
    assert download.content.startswith(starts)
    refused = httpx.post(f"{url}/ask/export", data={**form, "sql": "DELETE FROM customers"}, cookies=cookies,
                         timeout=60)
    assert refused.status_code == 400 and "UNSAFE_SQL" in refused.text


def test_keyboard_reaches_every_screen(console: tuple[str, ServerProcess], browser: WebDriver) -> None:
    url, _ = console
    browser.get(f"{url}/status")
    links = browser.find_elements(By.CSS_SELECTOR, "nav a")
    assert [link.text for link in links] == ["Connect", "Tables", "Processing", "Ask", "History", "Status"]
    body = browser.find_element(By.TAG_NAME, "body")
    reached = set()
    for _ in range(12):
        body.send_keys("\ue004")  # Tab
        reached.add(browser.switch_to.active_element.text)
    assert {"Connect", "Tables", "Processing", "Ask", "History", "Status", "Sign out"} <= reached
