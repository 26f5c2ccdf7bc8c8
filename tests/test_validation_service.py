"""/validate, rate limiting and the CI script for data pull requests, through real servers and real git.

`server` is the public read-only server over the repository's data; the 429 test starts its own server with a tiny
rate limit and one worker (the limit is per worker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from copgraph.core.config import Config
from copgraph.web.http.ratelimit import TokenBuckets
from tests.conftest import REPO, running_server
from tests.test_shapes import expected

VALID = sorted((REPO / "tests" / "valid").glob("*.ttl"))
NEW_COMMUNITY = REPO / "tests" / "valid" / "new-community-with-presence.ttl"
INVALID = [
    REPO / "tests" / "invalid" / name
    for name in (
        "community-label-mincount.ttl",
        "community-source-mincount.ttl",
        "presence-url-pattern.ttl",
        "rule-normalised-tag-sparql.ttl",
    )
]
# A new community claiming #UKFEchat's published Twitter handle: caught only in the context of the published data.
HANDLE_CLASH = REPO / "tests" / "invalid" / "rule-unique-handle-sparql.ttl"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
COMMUNITY = "https://w3id.org/copgraph/id/community/"
SCRIPT_LABEL = f"""
<{COMMUNITY}test-script> a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> ;
    <http://www.w3.org/2000/01/rdf-schema#label> "<script>alert(1)</script>"@en .
"""


def post_turtle(url: str, body: bytes | str, **headers: str) -> requests.Response:
    headers = {"Content-Type": "text/turtle", **headers}
    return requests.post(url + "/validate", data=body, headers=headers, timeout=30)


def version(url: str) -> str:
    return requests.get(url + "/healthz", timeout=10).json()["version"]


# --- Reports ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_a_valid_contribution_conforms(server: str, path: Path) -> None:
    response = post_turtle(server, path.read_bytes())
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"conforms": True, "results": []}


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_an_invalid_contribution_is_reported_with_its_message(server: str, path: Path) -> None:
    shape, _, expect = expected(path)
    response = post_turtle(server, path.read_bytes())
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["conforms"] is False
    assert any(expect in r["message"] and r["source_shape"] == shape for r in report["results"]), report


def test_a_duplicate_handle_of_a_published_community_is_caught(server: str) -> None:
    report = post_turtle(server, HANDLE_CLASH.read_bytes()).json()
    assert report["conforms"] is False
    clashes = {r["focus_node"]: r for r in report["results"] if r["source_shape"].endswith("#Rule-unique-handle")}
    clash = clashes["https://w3id.org/copgraph/id/presence/test-handle-clash-twitter"]
    assert "A handle belongs to one community" in clash["message"]
    assert f"{COMMUNITY}ukfechat" in clash["message"]
    assert set(clash) >= {"focus_node", "path", "value", "message", "severity", "source_shape"}
    assert clash["severity"] == str(SH.Violation)


def test_the_report_as_turtle_is_an_sh_validation_report(server: str) -> None:
    response = post_turtle(server, INVALID[0].read_bytes(), Accept="text/turtle")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    assert "Accept" in response.headers["Vary"]
    graph = Graph().parse(data=response.text, format="turtle")
    report = graph.value(predicate=RDF.type, object=SH.ValidationReport)
    assert graph.value(report, SH.conforms) == Literal(False)
    assert any(True for _ in graph.objects(report, SH.result))


def test_a_browser_gets_the_report_as_a_page_grouped_by_focus_node(server: str) -> None:
    shape, _, expect = expected(HANDLE_CLASH)
    response = post_turtle(server, HANDLE_CLASH.read_bytes(), Accept=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Does not conform" in response.text
    assert "<h3><code>https://w3id.org/copgraph/id/presence/test-handle-clash-twitter</code></h3>" in response.text
    assert expect in response.text and shape in response.text


def test_json_ld_is_read_by_its_content_type(server: str) -> None:
    body = Graph().parse(NEW_COMMUNITY).serialize(format="json-ld")
    response = requests.post(
        server + "/validate", data=body, headers={"Content-Type": "application/ld+json"}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["conforms"] is True


# --- The page for people ---------------------------------------------------------------------------------------------


def test_the_form_page_has_labelled_controls_and_says_what_is_checked(server: str) -> None:
    response = requests.get(server + "/validate", timeout=10)
    assert response.status_code == 200
    page = response.text
    assert '<form action="/validate" method="post" enctype="multipart/form-data">' in page
    for control in ("validate-file", "validate-text", "validate-format"):
        assert f'<label for="{control}">' in page and f'id="{control}"' in page
    assert "together with the published" in page
    assert "Community of practice" in page  # a node shape's label, read from shapes/


def test_an_uploaded_file_is_validated_and_shown_to_a_browser(server: str) -> None:
    _, _, expect = expected(HANDLE_CLASH)
    # Browsers often declare .ttl files as octet-stream: the extension decides.
    files = {"file": ("clash.ttl", HANDLE_CLASH.read_bytes(), "application/octet-stream")}
    response = requests.post(
        server + "/validate", files=files, data={"text": "", "format": "text/turtle"},
        headers={"Accept": BROWSER_ACCEPT}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Does not conform" in response.text and expect in response.text


def test_pasted_text_is_validated_and_kept_in_the_text_box(server: str) -> None:
    text = NEW_COMMUNITY.read_text(encoding="utf-8")
    response = requests.post(
        server + "/validate", files={"text": (None, text), "format": (None, "text/turtle")},
        headers={"Accept": BROWSER_ACCEPT}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Conforms: no violations" in response.text
    assert "FE Maths Test Chat" in response.text  # the pasted text is shown again


def test_values_from_the_contribution_are_escaped_in_the_page(server: str) -> None:
    response = requests.post(
        server + "/validate", files={"text": (None, SCRIPT_LABEL), "format": (None, "text/turtle")},
        headers={"Accept": BROWSER_ACCEPT}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Does not conform" in response.text


# --- Bad input -------------------------------------------------------------------------------------------------------


def test_unparseable_turtle_is_400_with_line_and_column(server: str) -> None:
    body = '@prefix ex: <https://example.org/> .\n\nex:a ex:b ex:c ;\n    ex:d "unterminated .\n'
    response = post_turtle(server, body)
    assert response.status_code == 400
    assert "line 4" in response.text and "column" in response.text


def test_a_remote_json_ld_context_is_not_fetched(server: str) -> None:
    body = '{"@context": "https://schema.org/", "@id": "https://example.org/x", "name": "x"}'
    response = requests.post(
        server + "/validate", data=body, headers={"Content-Type": "application/ld+json"}, timeout=30
    )
    assert response.status_code == 400
    assert "not fetched" in response.text


@pytest.mark.parametrize(
    ("content_type", "hint"),
    [("application/pdf", "application/pdf"), ("application/x-www-form-urlencoded", "Content-Type"), (None, "none")],
    ids=["pdf", "curl-without-content-type", "no-content-type"],
)
def test_an_unsupported_type_is_415(server: str, content_type: str | None, hint: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(server + "/validate", data=HANDLE_CLASH.read_bytes(), headers=headers, timeout=30)
    assert response.status_code == 415
    assert hint in response.text and "text/turtle" in response.text


def test_an_oversized_contribution_is_413(server: str) -> None:
    body = b"# " + b"x" * (Config().max_request_bytes + 1000) + b"\n"
    response = post_turtle(server, body)
    assert response.status_code == 413
    assert "larger than" in response.text


def test_validation_writes_nothing(server: str) -> None:
    before = version(server)
    assert post_turtle(server, NEW_COMMUNITY.read_bytes()).json()["conforms"] is True
    ask = f"ASK {{ <{COMMUNITY}test-maths-teachers-chat> ?p ?o }}"
    answer = requests.get(
        server + "/sparql", params={"query": ask}, headers={"Accept": "application/sparql-results+json"}, timeout=10
    )
    assert answer.json()["boolean"] is False
    assert version(server) == before


# --- Rate limits -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(built_config: Config) -> Iterator[str]:
    """A server allowing two validations a minute per client, in one worker (the limit is per worker)."""
    with running_server(REPO, built_config.store_dir, workers=1, rate_limit_per_minute="2") as url:
        yield url


def test_past_the_limit_a_client_gets_429_with_retry_after(limited: str) -> None:
    for _ in range(2):
        assert post_turtle(limited, NEW_COMMUNITY.read_bytes()).status_code == 200
    response = post_turtle(limited, NEW_COMMUNITY.read_bytes())
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert "Too many requests" in response.text and "2 requests a minute" in response.text
    # X-Forwarded-For is not believed from a client that is not a configured proxy.
    forged = post_turtle(limited, NEW_COMMUNITY.read_bytes(), **{"X-Forwarded-For": "203.0.113.9"})
    assert forged.status_code == 429
    assert requests.get(limited + "/validate", timeout=10).status_code == 200  # the page itself is not limited


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=6, clock=lambda: now[0])
    assert all(buckets.take("validate", "a") == 0 for _ in range(6))
    assert buckets.take("validate", "a") == pytest.approx(10.0)
    assert buckets.take("validate", "b") == 0  # another client has its own bucket
    assert buckets.take("contribute", "a") == 0  # and so has another route
    now[0] = 10.0
    assert buckets.take("validate", "a") == 0


# --- CI for data pull requests ---------------------------------------------------------------------------------------


@pytest.fixture
def data_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the ontology, shapes, data and the CI script, with `main` as its base."""
    root = tmp_path / "repo"
    for folder in ("ontology", "shapes", "data", ".ci"):
        shutil.copytree(REPO / folder, root / folder)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "published data")
    git(root, "checkout", "-q", "-b", "contribution")
    return root


def git(root: Path, *args: str) -> None:
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    identity |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=root, check=True, env=os.environ | identity)


def contribute(root: Path, example: Path) -> subprocess.CompletedProcess[str]:
    """Commit example as a new community file and run .ci/validate-data against main."""
    shutil.copy(example, root / "data" / "communities" / "contributed.ttl")
    git(root, "add", "data")
    git(root, "commit", "-q", "-m", "a contribution")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"BASE_REF": "main", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.run(
        [str(root / ".ci" / "validate-data")], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_ci_passes_a_pull_request_adding_a_valid_community(data_repo: Path) -> None:
    result = contribute(data_repo, NEW_COMMUNITY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "data/communities/contributed.ttl" in result.stdout
    assert "Conforms" in result.stdout


def test_ci_fails_a_pull_request_adding_an_invalid_community_with_the_report(data_repo: Path) -> None:
    _, _, expect = expected(HANDLE_CLASH)
    result = contribute(data_repo, HANDLE_CLASH)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Does not conform" in result.stdout and expect in result.stdout
