"""Issue 14, points 6 and 9: maintainer sessions end with their token and on logout, their cookie is SameSite and
(over HTTPS) Secure; metrics label only a fixed set of methods. Against a real server process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from copgraph.core.config import Config
from copgraph.web.http.auth import mint_token
from tests.conftest import REPO, running_server

SECRET = "sessions-maintainer-secret-3141"


@pytest.fixture(scope="module")
def maintained(built_config: Config) -> Iterator[str]:
    settings = {"maintainer_token": SECRET, "trusted_proxy": "127.0.0.1", "rate_limit_per_minute": "1000"}
    with running_server(REPO, built_config.store_dir, **settings) as url:
        yield url


def logged_in(url: str, token: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(url + "/maintain/login", data={"token": token}, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return browser


def is_maintainer(url: str, cookies: requests.cookies.RequestsCookieJar) -> bool:
    answer = requests.get(url + "/maintain/contributions", cookies=cookies, allow_redirects=False, timeout=30)
    return answer.status_code == 200


def test_a_session_ends_when_the_token_it_was_made_from_expires(maintained: str) -> None:
    browser = logged_in(maintained, mint_token(SECRET, 3))
    assert is_maintainer(maintained, browser.cookies)
    time.sleep(3.5)
    assert not is_maintainer(maintained, browser.cookies)


def test_logout_ends_the_session_even_for_a_copy_of_its_cookie(maintained: str) -> None:
    browser = logged_in(maintained, SECRET)
    copy = requests.cookies.RequestsCookieJar()
    copy.update(browser.cookies)
    assert is_maintainer(maintained, copy)
    browser.post(maintained + "/maintain/logout", timeout=30)
    assert not is_maintainer(maintained, browser.cookies)
    assert not is_maintainer(maintained, copy)


def test_the_session_cookie_is_strict_and_http_only_and_secure_behind_an_https_proxy(maintained: str) -> None:
    plain = requests.post(maintained + "/maintain/login", data={"token": SECRET}, allow_redirects=False, timeout=30)
    cookie = plain.headers["Set-Cookie"]
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    proxied = requests.post(
        maintained + "/maintain/login",
        data={"token": SECRET},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=30,
    )
    assert "Secure" in proxied.headers["Set-Cookie"]  # 127.0.0.1 is the trusted proxy here


def test_metrics_label_only_known_methods(maintained: str) -> None:
    for number in range(20):
        requests.request(f"BOGUS{number}", maintained + "/healthz", timeout=10)
    exposition = requests.get(maintained + "/metrics", timeout=10).text
    assert "BOGUS" not in exposition
    assert 'method="other"' in exposition
