"""Hostile input in every field of a contribution ("put yourself on the map"), as JSON and as the HTML form, against a
real server: markup, control characters, huge values, wrong JSON types, Unicode edge cases and IRIs with javascript:
and other schemes.

Expected for each: 400 with an error for that field (JSON `errors`, or the form page with the field's error next to
it), never a 5xx or a stack trace, and nothing written: no file in the pending area and the same dataset version.
The maintainers' reason for a review is a field too: a hostile one is refused and the contribution stays pending.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copgraph.build.pipeline import build
from copgraph.contributions.answers import ContributionError, check_answers
from copgraph.contributions.known import Known
from copgraph.core.config import Config
from tests.conftest import REPO, running_server

TOKEN = "hostile-contributions-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}
TRACE_MARKERS = ("Traceback", 'File "/', "Werkzeug Debugger", "<title>500")
VALID = {"name": "Hostile Input Test Circle", "themes": ["maths"], "source": "https://example.org/hostile-input"}

# Hostile text, refused in every field.
MARKUP = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "x<!--",
    "<a href='javascript:alert(1)'>x</a>",
]
CONTROL = ["a\x00b", "a\x1b[31mb", "a\x07b", "a\x7fb", "a\x85b", "a\x9bb"]
UNICODE = [
    "a\ud800b",  # a lone surrogate (sent as the JSON escape \ud800)
    "admin\u202egnp.exe",  # right-to-left override
    "a\u2066b\u2069",  # directional isolates
    "a\uffffb",  # noncharacters
    "a\ufdd0b",
    "a\U0010ffffb",
    "a\ufffdb",  # what an undecodable byte becomes
]
HUGE = ["x" * 300_000, "#" + "a" * 5000]
EVERYWHERE = MARKUP + CONTROL + UNICODE + HUGE
# Addresses that are not web addresses (or not valid IRIs), refused where an address is asked for.
NOT_WEB_ADDRESSES = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    'https://example.org/"onmouseover=alert(1)',
    "https://example.org/{x}",
    "https://example.org/a\\b",
    "https://exa mple.org/",
    "https://example.org/%zz",
    "http://[::1",
    "https://",
]
# Values for the fields that take one of the known values (themes, organisation, role, status, governance, updates).
NOT_KNOWN = ["../../etc/passwd", "javascript:alert(1)", "maths; DROP ALL", "MATHS", "%6d%61%74%68%73", "ma\u200bths"]
NOT_YEARS = ["javascript:alert(1)", "２０２１", "20\n21", "-2021", "1e3", "99999", "20\u200b21"]
NOT_HASHTAGS = ["#ÜberFE", "javascript:alert(1)", "#a-b", "##", "#a.b", "#\u0661\u0662"]
# Wrong JSON types for any field (founded may be a whole number: a year).
WRONG_TYPES = [123, 1.5, True, False, {"value": "x"}, [["nested"]], [{"value": "x"}], [1, 2]]

TEXT_FIELDS = ("name", "description")
ADDRESS_FIELDS = ("homepage", "source")
KNOWN_VALUE_FIELDS = ("themes", "organisation", "role", "status", "governance", "updates")


@dataclass(frozen=True)
class Case:
    """One hostile answer: the field it goes in (as the JSON and the form name it) and its value."""

    field: str
    value: object

    def json_body(self) -> dict:
        if self.field == "account":
            return VALID | {"platforms": [{"platform": "twitter", "account": self.value}]}
        if self.field == "platform":
            return VALID | {"platforms": [{"platform": self.value, "account": "@hostile"}]}
        if self.field in ("themes", "hashtags") and isinstance(self.value, str):
            return VALID | {self.field: [self.value]}
        # an organisation needs a role and a role an organisation: give the other one a good value
        partner = {"organisation": {"role": "hostedBy"}, "role": {"organisation": "etf"}}.get(self.field, {})
        return VALID | partner | {self.field: self.value}

    def form_body(self) -> dict:
        body = {**VALID, "platform": ["twitter"], "account": ["@hostile"]}
        if self.field in ("account", "platform"):
            body[self.field] = [self.value]
        else:
            body |= {"organisation": "etf", "role": "hostedBy"} if self.field in ("organisation", "role") else {}
            body[self.field] = self.value
        return body

    @property
    def error_field(self) -> str:
        return "platforms" if self.field in ("account", "platform") else self.field


def cases_for(field: str) -> list[Case]:
    values: list[object] = list(EVERYWHERE)
    if field in ADDRESS_FIELDS or field == "account":
        values += NOT_WEB_ADDRESSES
    if field in KNOWN_VALUE_FIELDS or field == "platform":
        values += NOT_KNOWN + NOT_WEB_ADDRESSES
    if field == "founded":
        values += NOT_YEARS
    if field == "hashtags":
        values += NOT_HASHTAGS
    if field in TEXT_FIELDS:
        values += ["line one\nline two"] if field == "name" else []
    return [Case(field, value) for value in values]


FIELDS = ("name", "description", "homepage", "platform", "account", "hashtags", "themes", "organisation", "role",
          "founded", "status", "governance", "source", "updates")  # fmt: skip


def _pending_files(config: Config) -> list[str]:
    return sorted(p.name for p in config.pending_dir.glob("*")) if config.pending_dir.exists() else []


def _version(url: str) -> str:
    return requests.get(url + "/healthz", timeout=10).json()["version"]


@pytest.fixture(scope="module")
def contributing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Config]]:
    root = tmp_path_factory.mktemp("hostile-contributions")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config, validate=False)  # the repository's own files, validated by tests/test_shapes.py
    settings_ = {"maintainer_token": TOKEN, "rate_limit_per_minute": "0"}
    with running_server(root, config.store_dir, **settings_) as url:
        yield url, config


@pytest.fixture
def nothing_written(contributing: tuple[str, Config]) -> Iterator[tuple[str, Config]]:
    """The server, checked afterwards to have written nothing: no pending file, the same dataset version."""
    url, config = contributing
    files, version = _pending_files(config), _version(url)
    yield url, config
    assert _pending_files(config) == files, "a refused contribution left files in the pending area"
    assert _version(url) == version, "a refused contribution changed the store"


def assert_no_trace(response: requests.Response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    assert not any(marker in response.text for marker in TRACE_MARKERS), response.text[:500]


def test_the_valid_base_contribution_is_accepted(contributing: tuple[str, Config]) -> None:
    """So that each refusal below is the hostile field's doing."""
    url, _ = contributing
    for body in (
        VALID | {"platforms": [{"platform": "twitter", "account": "@hostile"}]},
        VALID | {"organisation": "etf", "role": "hostedBy", "founded": 2021},
    ):
        response = requests.post(url + "/contribute", json=body, headers=JSON, timeout=60)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("field", FIELDS)
def test_hostile_json_in_every_field_is_a_400_for_that_field(nothing_written: tuple[str, Config], field: str) -> None:
    url, _ = nothing_written
    for case in cases_for(field) + [Case(field, value) for value in WRONG_TYPES]:
        if (
            field in ("themes", "hashtags")
            and isinstance(case.value, list)
            and all(isinstance(v, str) for v in case.value)
        ):
            continue
        response = requests.post(url + "/contribute", json=case.json_body(), headers=JSON, timeout=60)
        assert_no_trace(response)
        assert response.status_code == 400, f"{case}: {response.status_code} {response.text[:300]}"
        errors = response.json()["errors"]
        assert errors.get(case.error_field), f"{case}: no error for {case.error_field}: {errors}"
        assert all(len(message) < 3000 for messages in errors.values() for message in messages)


@pytest.mark.parametrize("field", FIELDS)
def test_hostile_form_answers_in_every_field_are_a_400_shown_next_to_the_field(
    nothing_written: tuple[str, Config], field: str
) -> None:
    url, _ = nothing_written
    for case in cases_for(field):
        if "\ud800" in str(case.value):
            continue  # a form cannot carry a lone surrogate: UTF-8 has no encoding for it (see the byte test below)
        response = requests.post(url + "/contribute", data=case.form_body(), headers=HTML, timeout=60)
        assert_no_trace(response)
        assert response.status_code == 400, f"{case}: {response.status_code}"
        assert f'id="{case.error_field}-error"' in response.text, f"{case}: no error next to {case.error_field}"
        for marker in ("<script>alert", "<img src=x", "<svg onload", "</textarea><script>"):
            assert marker not in response.text, f"{case}: {marker!r} is shown as markup"


@pytest.mark.parametrize("field", ["name", "description", "source", "account"])
def test_bytes_that_are_not_utf8_in_a_form_are_refused(nothing_written: tuple[str, Config], field: str) -> None:
    url, _ = nothing_written
    fields = {**VALID, "platform": "twitter", "account": "@hostile", "themes": "maths"}
    parts = {name: (None, value.encode()) for name, value in fields.items()}
    parts[field] = (None, b"caf\xe9 \xff\xfe")  # Latin-1, and bytes no encoding of text holds
    response = requests.post(url + "/contribute", files=parts, headers=HTML, timeout=60)
    assert_no_trace(response)
    assert response.status_code == 400
    error_field = "platforms" if field == "account" else field
    assert f'id="{error_field}-error"' in response.text
    assert "UTF-8" in response.text


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"a string"',
        b"null",
        b"42",
        b"{",
        b'{"name": "\xff"}',
        b'{"name": ' + b"[" * 10000 + b"]" * 10000 + b"}",
    ],
    ids=["array", "string", "null", "number", "truncated", "not-utf8", "deeply-nested"],
)
def test_a_json_body_that_is_not_an_object_of_fields_is_a_400(nothing_written: tuple[str, Config], body: bytes) -> None:
    url, _ = nothing_written
    response = requests.post(
        url + "/contribute", data=body, headers={"Content-Type": "application/json", **JSON}, timeout=60
    )
    assert_no_trace(response)
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"]


def test_a_body_over_the_size_limit_is_413(nothing_written: tuple[str, Config]) -> None:
    url, _ = nothing_written
    response = requests.post(url + "/contribute", json=VALID | {"description": "x" * 2_000_000}, headers=JSON)
    assert_no_trace(response)
    assert response.status_code == 413
    assert "larger than" in response.text


def test_too_many_platforms_hashtags_or_themes_are_refused(nothing_written: tuple[str, Config]) -> None:
    url, _ = nothing_written
    many = {
        "platforms": [{"platform": "twitter", "account": f"@h{i}"} for i in range(5000)],
        "hashtags": [f"#tag{i}" for i in range(5000)],
        "themes": ["maths"] * 5000,
    }
    response = requests.post(url + "/contribute", json=VALID | many, headers=JSON, timeout=60)
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"platforms", "hashtags", "themes"}


@pytest.mark.parametrize("reason", MARKUP[:2] + CONTROL[:2] + UNICODE[1:3] + ["r" * 5000, 42, ["a list"]])
def test_a_hostile_review_reason_is_refused_and_the_contribution_stays_pending(
    contributing: tuple[str, Config], reason: object
) -> None:
    url, config = contributing
    submitted = requests.post(url + "/contribute", json=VALID | {"name": "Hostile Reason Circle"}, headers=JSON)
    assert submitted.status_code == 201, submitted.text
    receipt_id, receipt_path, version = submitted.json()["id"], submitted.json()["receipt"], _version(url)
    for action in ("approve", "reject"):
        response = requests.post(
            f"{url}/maintain/contributions/{receipt_id}/{action}", json={"reason": reason}, headers=AUTH | JSON
        )
        assert_no_trace(response)
        assert response.status_code == 400, response.text[:300]
        assert response.json()["errors"]["reason"]
    assert requests.get(url + receipt_path, headers=JSON).json()["status"] == "pending"
    assert _version(url) == version
    assert not (config.root / "data" / "communities" / "hostile-reason-circle.ttl").exists()


FIELD_NAMES = st.sampled_from(["name", "description", "homepage", "hashtags", "founded", "source", "account"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(field=FIELD_NAMES, value=st.text(max_size=80))
def test_any_text_in_a_field_is_received_or_refused_never_a_server_error(
    contributing: tuple[str, Config], field: str, value: str
) -> None:
    url, _ = contributing
    response = requests.post(url + "/contribute", json=Case(field, value).json_body(), headers=JSON, timeout=60)
    assert_no_trace(response)
    assert response.status_code in (201, 400), response.text[:300]
    if response.status_code == 400:
        assert response.json()["errors"]
    else:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", response.json()["id"])


# --- Invisible characters (issue 14, point 9) -------------------------------------------------------------------


OFFLINE_KNOWN = Known(
    themes={"maths": "Maths"}, platforms={"twitter": "Twitter"}, organisations={},
    statuses={"unknown": "Unknown"}, governance={"unknown": "Unknown"},
    communities={}, hashtags={}, homepages={}, handles={},
)  # fmt: skip


@pytest.mark.parametrize("character", ["\u200b", "\u200f", "\u061c", "\u200e", "\u2060", "\ufeff", "\u00ad"])
@pytest.mark.parametrize("field", ["name", "platforms", "hashtags"])
def test_invisible_characters_and_direction_marks_are_refused_in_one_line_fields(field: str, character: str) -> None:
    answers = {"name": ["Invisible Check Circle"], "themes": ["maths"], "source": ["https://example.org/invisible"]}
    given = {
        "name": {"name": [f"Invisible{character} Check Circle"]},
        "platforms": {"platforms": [f"twitter\t@invisible{character}check"]},
        "hashtags": {"hashtags": [f"#Invisible{character}Check"]},
    }[field]
    with pytest.raises(ContributionError) as refused:
        check_answers(answers | given, OFFLINE_KNOWN)
    assert f"U+{ord(character):04X}" in " ".join(refused.value.errors[field])


def test_a_joiner_is_still_accepted_in_a_description() -> None:
    answers = {"name": ["Joiner Circle"], "themes": ["maths"], "source": ["https://example.org/joiner"]}
    checked = check_answers(
        answers | {"description": ["Family \U0001f468\u200d\U0001f469\u200d\U0001f467 maths"]}, OFFLINE_KNOWN
    )
    assert "\u200d" in checked.description
