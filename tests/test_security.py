"""Security: headers on every response, who may write (shared secret or an expiring minted token), tokens never
logged, the dependency audit's verdicts, and the site under its own Content-Security-Policy in a real browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.web.http.auth import check_token, mint_token
from copgraph.web.http.security import CONTENT_SECURITY_POLICY
from tests.conftest import REPO, copgraph_command, free_port, wait_until_serving

SECRET = "security-test-secret-0123456789"
UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
TRIPLE = "<http://ex/a> <http://ex/b> <http://ex/c> ."


@contextmanager
def server_logging_to(log: Path, root: Path, store: Path, **settings: str) -> Iterator[str]:
    """`copgraph serve` like conftest.running_server, but with its stdout and stderr kept in `log`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(root), "COPGRAPH_STORE": str(store)}
    env |= {f"COPGRAPH_{name.upper()}": value for name, value in settings.items()}
    command = copgraph_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url + "/healthz", process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server over a copy of the data with SECRET as the maintainer token; yields its URL and its log file."""
    root = tmp_path_factory.mktemp("secured")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    log = root / "server.log"
    with server_logging_to(log, root, config.store_dir, maintainer_token=SECRET) as url:
        yield url, log


def version(url: str) -> str:
    return requests.get(url + "/healthz", timeout=10).json()["version"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def writes(url: str, headers: dict[str, str]) -> dict[str, requests.Response]:
    """One attempt at each write route with these headers."""
    turtle = {"Content-Type": "text/turtle", **headers}
    return {
        "update": requests.post(url + "/sparql", data={"update": "CLEAR ALL"}, headers=headers, timeout=10),
        "put": requests.put(url + "/store?graph=http://ex/g", data=TRIPLE, headers=turtle, timeout=10),
        "post": requests.post(url + "/store", data=TRIPLE, headers=turtle, timeout=10),
        "delete": requests.delete(url + "/store?graph=https://w3id.org/copgraph/graph/platforms", headers=headers),
        "approve": requests.post(url + "/maintain/contributions/nothing/approve", headers=headers, timeout=10),
    }


# --- Headers -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/sparql?query=ASK%7B%7D", "/doc/community/ukfechat", "/map", "/no/such/page", "/sparql?query=nonsense"],
)
def test_every_response_carries_the_security_headers(server: str, path: str) -> None:
    response = requests.get(server + path, headers={"Accept": "text/html"}, timeout=10)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_refused_writes_carry_the_security_headers_too(server: str) -> None:
    response = requests.post(server + "/sparql", data={"update": "CLEAR ALL"}, timeout=10)
    assert response.status_code == 403
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- Tokens ------------------------------------------------------------------------------------------------------


def test_a_minted_token_is_accepted_until_it_expires() -> None:
    token = mint_token(SECRET, 60, now=1_000_000)
    assert check_token(token, SECRET, now=1_000_059) is None
    assert "expired" in check_token(token, SECRET, now=1_000_060)


def test_the_shared_secret_is_accepted() -> None:
    assert check_token(SECRET, SECRET) is None


@pytest.mark.parametrize(
    "forged",
    [
        "copgraph1.99999999999.0000",  # far future, no signature
        "copgraph1.99999999999." + "0" * 64,
        "copgraph1..",
        "copgraph1.١٢٣.abc",  # digits that are not ASCII
        "",
    ],
)
def test_forged_or_malformed_tokens_are_refused_as_invalid(forged: str) -> None:
    assert "not valid" in check_token(forged, SECRET)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert "not valid" in check_token(mint_token("another secret", 3600), SECRET)


def test_a_token_cannot_be_extended_by_editing_its_expiry() -> None:
    _, expiry, signature = mint_token(SECRET, 60).split(".")
    assert "not valid" in check_token(f"copgraph1.{int(expiry) + 86400}.{signature}", SECRET)


def test_the_cli_mints_a_token_from_the_configured_secret() -> None:
    env = {**os.environ, "COPGRAPH_MAINTAINER_TOKEN": SECRET}
    done = subprocess.run(copgraph_command("token", "--expires-in", "3600"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert check_token(done.stdout.strip(), SECRET) is None


def test_the_cli_refuses_to_mint_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    done = subprocess.run(copgraph_command("token"), env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "COPGRAPH_MAINTAINER_TOKEN" in done.stderr


# --- Access to the write routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "says"),
    [
        ({}, 401, "send the maintainer token"),
        ({"Authorization": "Basic c2VjcmV0"}, 401, "send the maintainer token"),
        (bearer("wrong"), 403, "not valid"),
        (bearer(mint_token("another secret", 3600)), 403, "not valid"),
        (bearer(mint_token(SECRET, 60, now=1_000_000)), 401, "expired"),
    ],
    ids=["missing", "basic", "wrong", "other-secret", "expired"],
)
def test_every_write_route_refuses_bad_credentials_and_writes_nothing(
    writable: tuple[str, Path], headers: dict[str, str], status: int, says: str
) -> None:
    url, _ = writable
    before = version(url)
    for route, response in writes(url, headers).items():
        assert response.status_code == status, f"{route}: {response.status_code} {response.text}"
        assert says in response.text, f"{route}: {response.text}"
    assert version(url) == before


def test_an_expired_token_is_told_so_in_the_challenge(writable: tuple[str, Path]) -> None:
    url, _ = writable
    expired = bearer(mint_token(SECRET, 60, now=1_000_000))
    headers = {"Content-Type": "text/turtle", **expired}
    response = requests.put(url + "/store?graph=http://ex/g", data=TRIPLE, headers=headers, timeout=10)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_minted_token_writes(writable: tuple[str, Path]) -> None:
    url, _ = writable
    before = version(url)
    headers = {"Content-Type": "text/turtle", **bearer(mint_token(SECRET, 600))}
    put = requests.put(url + "/store?graph=http://ex/minted", data=TRIPLE, headers=headers, timeout=30)
    assert put.status_code in (201, 204), put.text
    assert version(url) != before
    assert requests.get(url + "/store?graph=http://ex/minted", timeout=10).status_code == 200


def test_tokens_never_reach_the_server_output(writable: tuple[str, Path]) -> None:
    url, log = writable
    minted = mint_token(SECRET, 600)
    requests.get(url + "/sparql", params={"query": "ASK {}"}, headers=bearer(minted), timeout=10)
    requests.post(url + "/sparql", data={"update": "INSERT DATA {"}, headers=bearer(minted), timeout=10)
    requests.post(url + "/sparql", data={"update": "CLEAR ALL"}, headers=bearer(SECRET + "x"), timeout=10)
    turtle = {"Content-Type": "text/turtle", **bearer(SECRET)}
    requests.put(url + "/store?graph=http://ex/logged", data="<", headers=turtle, timeout=10)
    requests.post(url + "/maintain/login", data={"token": SECRET}, timeout=10)
    output = log.read_text(errors="replace")
    assert "POST /sparql" in output  # the access log is there, and is what was searched
    for secret in (SECRET, minted, minted.rsplit(".", 1)[1]):
        assert secret not in output


# --- Dependency audit --------------------------------------------------------------------------------------------


def audit_verdict(tmp_path: Path, report: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(report))
    return subprocess.run([sys.executable, REPO / ".ci" / "audit-dependencies", path], capture_output=True, text=True)


def test_the_audit_fails_on_a_known_vulnerability(tmp_path: Path) -> None:
    vuln = {"id": "PYSEC-0000-0", "fix_versions": ["2.0"], "description": ""}
    done = audit_verdict(tmp_path, {"dependencies": [{"name": "example", "version": "1.0", "vulns": [vuln]}]})
    assert done.returncode == 1
    assert "VULNERABLE: example 1.0: PYSEC-0000-0" in done.stdout


def test_the_audit_passes_a_clean_environment(tmp_path: Path) -> None:
    done = audit_verdict(tmp_path, {"dependencies": [{"name": "example", "version": "1.0", "vulns": []}]})
    assert done.returncode == 0
    assert "1 packages audited" in done.stdout


def test_the_audit_warns_but_passes_when_nothing_could_be_audited(tmp_path: Path) -> None:
    skipped = {"name": "example", "skip_reason": "Dependency not found on PyPI and could not be audited"}
    done = audit_verdict(tmp_path, {"dependencies": [skipped]})
    assert done.returncode == 0
    assert "WARNING: dependency audit NOT done" in done.stdout


# --- The site under its own policy, in a real browser ------------------------------------------------------------


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser: Debian's chromium is not at {CHROMIUM}")
    from tests.test_browser import ARGS

    profile = tmp_path_factory.mktemp("csp-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        context.set_default_timeout(10_000)
        yield context
        context.close()


def csp_violations(context: object, url: str, ready: str) -> list[str]:
    """Open `url` as served (with its own policy), wait for `ready`, and collect what the policy refused."""
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    response = page.goto(url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page.wait_for_selector(ready, state="visible")
    page.wait_for_timeout(300)
    page.close()
    return violations


def test_the_query_editor_works_under_the_sites_policy(browser_page: object, server: str) -> None:
    page = browser_page.new_page()
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.goto(server + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror", state="visible")
    page.locator(".yasqe_queryButton").click()
    page.wait_for_selector(".yasr :text('#UKFEchat')")
    page.close()
    assert not violations


@pytest.mark.parametrize(("path", "ready"), [("/map", "#map canvas"), ("/", "h1"), ("/doc/community/ukfechat", "h1")])
def test_pages_work_under_the_sites_policy(browser_page: object, server: str, path: str, ready: str) -> None:
    assert not csp_violations(browser_page, server + path, ready)
