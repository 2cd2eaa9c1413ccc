"""The web page in a real browser: headless Chromium (Debian's `chromium`, driven through
Debian's `chromedriver` by Selenium) against a real `podium serve`. A score submitted over
HTTP must show on the open board page within one second, without a reload."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from podium.bootstrap import managed_keys
from podium.domain.keys import Scope
from podium.settings import Settings
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
BOARD = "arena"
Headers = dict[Scope, dict[str, str]]  # a scope's key, as the header that sends it


async def make_keys(data: Path) -> Headers:
    async with managed_keys(Settings(data=data)) as keys:
        return {s: {"authorization": f"Bearer {(await keys.create(s))[1]}"} for s in (Scope.WRITE, Scope.ADMIN)}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web") / "data"


@pytest.fixture(scope="module")
def keys(data: Path) -> Headers:
    """A write and an admin key; the page itself has none."""
    return asyncio.run(make_keys(data))


@pytest.fixture(scope="module")
def server(data: Path, keys: Headers) -> Iterator[PodiumProcess]:
    """Auth on, as a studio runs it: the page reads the public board without a key."""
    with PodiumProcess(data, env={"PODIUM_AUTH": "on"}).start() as podium:
        yield podium


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.fail("the browser test needs Debian's chromium and chromium-driver: run `make system-deps`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield chrome
    finally:
        chrome.quit()


def submit(server: PodiumProcess, keys: Headers, user_id: str, score: int, *, wait: bool) -> None:
    answer = httpx.post(
        f"{server.base_url}/v1/boards/{BOARD}/scores",
        params={"wait": "true"} if wait else {},
        json={"user_id": user_id, "score": score},
        headers=keys[Scope.WRITE],
    )
    assert answer.status_code == (200 if wait else 202), answer.text


def create_public_board(server: PodiumProcess, keys: Headers) -> int:
    answer = httpx.put(f"{server.base_url}/v1/boards/{BOARD}", json={"reads": "public"}, headers=keys[Scope.ADMIN])
    return answer.status_code


def text(browser: WebDriver, css: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, css).text)


def column(browser: WebDriver, table: str, index: int) -> list[str]:
    return [str(td.text) for td in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody td:nth-child({index})")]


def save_screenshot(browser: WebDriver, *paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(path)), path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_picker_lists_the_boards_and_opens_one(server: PodiumProcess, keys: Headers, browser: WebDriver) -> None:
    assert create_public_board(server, keys) in (200, 201)
    browser.get(f"{server.base_url}/")
    WebDriverWait(browser, 10).until(lambda b: BOARD in [a.text for a in b.find_elements(By.CSS_SELECTOR, "#boards a")])
    browser.find_element(By.LINK_TEXT, BOARD).click()
    WebDriverWait(browser, 10).until(lambda b: text(b, "#board-name") == BOARD)
    assert browser.current_url == f"{server.base_url}/boards/{BOARD}"


def test_a_submitted_score_shows_on_the_board_page_within_a_second(
    server: PodiumProcess, keys: Headers, browser: WebDriver, tmp_path: Path
) -> None:
    assert create_public_board(server, keys) in (200, 201)
    for user_id, score in (("bob", 300), ("cy", 200), ("ada", 100)):
        submit(server, keys, user_id, score, wait=True)
    assert (
        httpx.put(
            f"{server.base_url}/v1/users/ada/friends", json={"friends": ["bob"]}, headers=keys[Scope.WRITE]
        ).status_code
        == 200
    )

    browser.get(f"{server.base_url}/boards/{BOARD}?user=ada&top=5")
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.ID, "state").get_attribute("data-state") == "live" and text(b, "#me-rank") == "3"
    )
    assert column(browser, "top", 2) == ["bob", "cy", "ada"]
    assert column(browser, "friends", 2) == ["bob", "ada"]

    started = time.monotonic()
    submit(server, keys, "ada", 250, wait=False)  # 350: ada passes bob and cy
    WebDriverWait(browser, 1.0, poll_frequency=0.02).until(lambda b: text(b, "#me-rank") == "1")
    elapsed_s = time.monotonic() - started
    assert elapsed_s < 1.0, f"the new rank showed after {elapsed_s:.3f} s"

    assert text(browser, "#me-score") == "350"
    WebDriverWait(browser, 2).until(lambda b: column(b, "top", 2) == ["ada", "bob", "cy"])
    WebDriverWait(browser, 2).until(lambda b: column(b, "friends", 2) == ["ada", "bob"])
    WebDriverWait(browser, 2).until(lambda b: column(b, "around", 2)[:1] == ["ada"])
    assert browser.find_element(By.CSS_SELECTOR, "#top tbody tr.mine").get_attribute("data-user") == "ada"
    save_screenshot(browser, tmp_path / "board.png", SCREENSHOTS / "board.png")


def readme_js() -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    return readme.split("In a browser:\n\n```js\n", 1)[1].split("```", 1)[0]


def test_the_readmes_javascript_client_runs_as_written(
    server: PodiumProcess, keys: Headers, browser: WebDriver
) -> None:
    """The README's browser example, pasted into a page of the service: it gets the
    snapshot and then the delta of a score submitted meanwhile, over SSE and WebSocket."""
    assert create_public_board(server, keys) in (200, 201)
    submit(server, keys, "ada", 1, wait=True)
    browser.get(f"{server.base_url}/")
    # The example logs each frame's seq first; collect what it logs.
    browser.execute_script("window.logged = []; console.log = (...args) => window.logged.push(args[0]);")
    browser.execute_script(readme_js())
    WebDriverWait(browser, 10).until(lambda b: len(b.execute_script("return window.logged")) >= 2)  # two snapshots
    before = max(browser.execute_script("return window.logged"))
    submit(server, keys, "zed", 7, wait=True)
    WebDriverWait(browser, 5, poll_frequency=0.05).until(
        lambda b: len([s for s in b.execute_script("return window.logged") if s > before]) >= 2  # SSE and WS
    )


def test_the_board_page_draws_the_users_rank_history(server: PodiumProcess, keys: Headers, browser: WebDriver) -> None:
    """The chart under "Rank history" has one dot per point of the user's history, the line
    through them, and a caption with the rank now."""
    assert create_public_board(server, keys) in (200, 201)
    for score in (1, 1000, 5000):  # hal climbs: each submission adds to its total
        submit(server, keys, "hal", score, wait=True)
    points = httpx.get(f"{server.base_url}/v1/boards/{BOARD}/users/hal/history").json()["points"]
    assert len(points) == 3
    browser.get(f"{server.base_url}/boards/{BOARD}?user=hal")
    WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.ID, "history-chart").get_attribute("data-points") == "3"
    )
    dots = browser.find_elements(By.CSS_SELECTOR, "#history-chart circle")
    assert len(dots) == 3
    line = browser.find_element(By.CSS_SELECTOR, "#history-chart polyline").get_attribute("points") or ""
    assert len(line.split()) == 3
    heights = [float(d.get_attribute("cy") or "nan") for d in dots]
    assert heights == sorted(heights, reverse=True)  # oldest first, each a better rank: each dot higher
    assert f"now #{points[0]['rank']}" in text(browser, "#history-caption")
