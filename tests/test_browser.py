"""What a person sees, in a real browser: Playwright drives Debian's chromium (/usr/bin/chromium, installed by .ci/run)
against the real `server`. Each test saves a screenshot into one temporary folder, whose path is printed, for CI to
keep as an artefact. Without the browser or Playwright the tests skip and say why.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[test]'")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"no browser: Debian's chromium is not at {CHROMIUM} (.ci/run installs it with apt)"
)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():  # printed even when output is captured, for CI to collect
            reporter.write_line(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sync_api.BrowserContext]:
    """One chromium for the module, with a fresh profile so nothing from an earlier run leaks in."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: sync_api.BrowserContext) -> Iterator[sync_api.Page]:
    """A new tab that fails the test on any script error the page raises."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"script errors on the page: {errors}"


def open_page(page: sync_api.Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, f"{url} answered {response.status}"


def test_home_page_says_what_copgraph_is(page: sync_api.Page, server: str, screenshots: Path) -> None:
    page.goto(server + "/")
    sync_api.expect(page.locator("h1")).to_contain_text("copgraph")
    sync_api.expect(page.get_by_text("communities of practice").first).to_be_visible()
    page.screenshot(path=screenshots / "home.png", full_page=True)


def test_community_page_shows_the_community(page: sync_api.Page, server: str, screenshots: Path) -> None:
    open_page(page, server + "/id/community/ukfechat")
    assert "/doc/community/ukfechat" in page.url
    sync_api.expect(page.locator("h1")).to_contain_text("#UKFEchat")
    sync_api.expect(page.get_by_text("Twitter").first).to_be_visible()
    page.screenshot(path=screenshots / "community-ukfechat.png", full_page=True)


def test_search_finds_a_community_by_hashtag(page: sync_api.Page, server: str, screenshots: Path) -> None:
    open_page(page, server + "/search?q=ukfechat")
    sync_api.expect(page.get_by_role("link", name="#UKFEchat").first).to_be_visible()
    page.screenshot(path=screenshots / "search-ukfechat.png", full_page=True)


def map_nodes(page: sync_api.Page) -> int:
    """Wait for the map to be drawn; the number of nodes it says it shows (and Cytoscape holds)."""
    status = page.locator("#map-count")
    sync_api.expect(status).to_contain_text("The map shows")
    shown = int(re.search(r"shows (\d+) nodes", status.inner_text()).group(1))
    assert page.evaluate("window.copgraphMap.nodes().length") == shown
    return shown


def test_map_draws_the_network_and_a_theme_filter_narrows_it(
    page: sync_api.Page, server: str, screenshots: Path
) -> None:
    page.goto(server + "/map")
    sync_api.expect(page.locator("#map canvas").first).to_be_visible()
    everything = map_nodes(page)
    assert everything > 0
    box = page.locator("#map canvas").first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    page.screenshot(path=screenshots / "map.png", full_page=True)

    page.get_by_label("Theme").select_option("esol")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"theme=esol"))
    narrowed = map_nodes(page)
    assert 0 < narrowed < everything
    sync_api.expect(page.locator("#map-summary")).to_contain_text("theme “ESOL")
    page.screenshot(path=screenshots / "map-esol.png", full_page=True)


def test_map_and_table_agree_on_who_is_on_the_map_in_a_year(page: sync_api.Page, server: str) -> None:
    page.goto(server + "/map?year=2021")
    map_nodes(page)
    on_map = re.search(r"\((\d+) communities\)", page.locator("#map-count").inner_text()).group(1)
    in_table = re.match(r"(\d+) of \d+ communities shown", page.locator("#map-summary").inner_text()).group(1)
    assert on_map == in_table


def test_map_runs_under_a_strict_content_security_policy(page: sync_api.Page, server: str) -> None:
    """No inline script or style: the map still draws when the page forbids them."""
    url = server + "/map"
    html = requests.get(url, timeout=10).text
    policy = "default-src 'self'; img-src 'self' data:"
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy}
    page.route(lambda address: address == url, lambda route: route.fulfill(status=200, body=html, headers=headers))
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.goto(url)
    assert map_nodes(page) > 0
    assert not violations


def test_map_is_usable_from_the_keyboard(page: sync_api.Page, server: str, screenshots: Path) -> None:
    page.goto(server + "/map?theme=esol")
    map_nodes(page)
    page.locator("#map").focus()
    page.keyboard.press("ArrowRight")
    details = page.locator("#node-details")
    first = page.locator("#node-picker option:checked").inner_text()
    sync_api.expect(details.locator("h3")).to_have_text(first)
    record = details.get_by_role("link", name=re.compile("^Open the record of"))
    sync_api.expect(record).to_have_attribute("href", re.compile(r"^/id/community/"))
    page.get_by_label("Go to a node").select_option(label="ESOL (English for speakers of other languages)")
    sync_api.expect(details.locator("h3")).to_have_text("ESOL (English for speakers of other languages)")
    sync_api.expect(record).to_have_attribute("href", "/id/theme/esol")
    page.screenshot(path=screenshots / "map-selected.png", full_page=True)


def test_query_editor_runs_the_prefilled_query(page: sync_api.Page, server: str, screenshots: Path) -> None:
    page.goto(server + "/sparql")
    sync_api.expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    sync_api.expect(page.locator(".yasqe")).to_contain_text("CommunityOfPractice")
    page.locator(".yasqe_queryButton").click()
    sync_api.expect(page.locator(".yasr")).to_contain_text("#UKFEchat")
    page.screenshot(path=screenshots / "query-editor.png", full_page=True)


# --- issue 17: hubs, the contribution form -----------------------------------------------------------------------


def test_a_theme_page_is_a_hub_of_its_communities(page: sync_api.Page, server: str, screenshots: Path) -> None:
    open_page(page, server + "/doc/theme/maths")
    sync_api.expect(page.get_by_role("heading", name=re.compile(r"^Communities \(\d+\)$"))).to_be_visible()
    sync_api.expect(page.get_by_role("heading", name="How it connects")).to_be_visible()
    first = page.locator(".hub tbody th a").first
    name = first.inner_text()
    first.click()
    sync_api.expect(page.locator("h1")).to_have_text(name)
    page.go_back()
    page.screenshot(path=screenshots / "hub-theme-maths.png", full_page=True)


def test_each_theme_checkbox_sits_beside_its_own_label(page: sync_api.Page, server: str) -> None:
    open_page(page, server + "/contribute")
    boxes = page.locator(".choice input[type=checkbox]")
    assert boxes.count() > 1
    for index in range(boxes.count()):
        box = boxes.nth(index)
        label = page.locator(f'label[for="{box.get_attribute("id")}"]')
        b, lab = box.bounding_box(), label.bounding_box()
        assert b is not None and lab is not None
        assert lab["x"] > b["x"] + b["width"] - 1  # to its right
        middle = b["y"] + b["height"] / 2
        assert lab["y"] <= middle <= lab["y"] + lab["height"]  # on the same line
    label = page.locator(".choice label").nth(1)
    label.click()
    assert boxes.nth(1).is_checked() and not boxes.nth(0).is_checked()


def test_a_form_with_errors_focuses_the_summary_and_links_each_field(
    page: sync_api.Page, server: str, screenshots: Path
) -> None:
    open_page(page, server + "/contribute")
    page.locator("#account-0").fill("@nowhere")
    page.get_by_role("button", name="Send for review").click()
    sync_api.expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".error-summary")
    sync_api.expect(summary).to_be_focused()
    sync_api.expect(summary).to_contain_text("has no platform")
    assert page.locator("#name").get_attribute("aria-invalid") == "true"
    described = page.locator("#name").get_attribute("aria-describedby") or ""
    assert "name-error" in described.split()
    sync_api.expect(page.locator("#name-error")).to_be_visible()
    summary.get_by_role("link", name=re.compile("^Name:")).click()
    assert page.url.endswith("#name")
    page.screenshot(path=screenshots / "contribute-errors.png", full_page=True)


def test_the_site_icon_loads_without_a_console_error(page: sync_api.Page, server: str) -> None:
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    open_page(page, server + "/communities")
    page.wait_for_load_state("networkidle")
    assert not failed, failed
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
