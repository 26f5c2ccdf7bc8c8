"""Contributions and maintainer review, over real HTTP against a real server on a scratch copy of the data.

`contributing` is a server with a maintainer token over its own copy of the repository; the tests of this module
contribute to it in turn (each with its own community names), so they share one build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from markupsafe import escape

from copgraph.build.pipeline import build
from copgraph.build.shacl import Validator
from copgraph.contributions.answers import Answers, check_answers
from copgraph.contributions.known import Known, known_values
from copgraph.contributions.pending import contributed_triples, find_receipt, save_receipt, submit
from copgraph.contributions.prune import prune_pending
from copgraph.contributions.record import community_graph
from copgraph.core.config import Config
from copgraph.core.things import slugify
from copgraph.store.reader import open_dataset
from tests.conftest import REPO, copgraph_command, running_server

TOKEN = "contributions-maintainer-token-456"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/json"}
COMMUNITY = "https://w3id.org/copgraph/id/community/"
PROV = "http://www.w3.org/ns/prov#"


def scratch(root: Path) -> Config:
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    return config


@pytest.fixture(scope="module")
def contributing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Config]]:
    config = scratch(tmp_path_factory.mktemp("contributing"))
    settings = {"maintainer_token": TOKEN, "rate_limit_per_minute": "1000"}
    with running_server(config.root, config.store_dir, **settings) as url:
        yield url, config


def answers(name: str, **extra: object) -> dict:
    return {
        "name": name,
        "themes": ["maths"],
        "source": "https://example.org/about/" + re.sub(r"\W+", "-", name.lower()),
    } | extra


def contribute(url: str, body: dict) -> requests.Response:
    return requests.post(url + "/contribute", json=body, headers=JSON, timeout=30)


def submitted(url: str, body: dict) -> dict:
    response = contribute(url, body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == response.json()["receipt"]  # the receipt's secret address
    return response.json()


def ask(url: str, query: str) -> bool:
    response = requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/json"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def receipt(url: str, path: str) -> dict:
    """The receipt at its secret address (the `receipt` path a submission answers)."""
    response = requests.get(url + path, headers=JSON, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


# --- The form --------------------------------------------------------------------------------------------------------


def test_the_form_labels_every_field_and_json_lists_the_allowed_values(contributing: tuple[str, Config]) -> None:
    url, _ = contributing
    page = requests.get(url + "/contribute", timeout=30)
    assert page.status_code == 200
    for field in ("name", "description", "homepage", "platform-0", "account-0", "hashtags", "theme-maths"):
        assert f'for="{field}"' in page.text and f'id="{field}"' in page.text
    for field in ("organisation", "role", "founded", "status", "governance", "source", "updates"):
        assert f'for="{field}"' in page.text
    described = requests.get(url + "/contribute", headers=JSON, timeout=30).json()["fields"]
    assert "maths" in described["themes"]["allowed"]
    assert "twitter" in described["platforms"]["allowed"]
    assert described["source"]["required"] is True


# --- Submitting: pending, never public ----------------------------------------------------------------------------


def test_the_receipt_says_in_words_what_was_sent_and_what_happens_next(contributing: tuple[str, Config]) -> None:
    url, config = contributing
    form = {
        "name": "Receipt Words Circle",
        "themes": ["maths", "english"],
        "source": "https://example.org/receipt-words",
        "platform": ["twitter"],
        "account": ["@receiptwords"],
        "organisation": "alt",
        "role": "hostedBy",
    }
    response = requests.post(url + "/contribute", data=form, allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    text = requests.get(url + location, headers={"Accept": "text/html"}, timeout=30).text
    labels = known_values(open_dataset(config))
    for label in (labels.themes["maths"], labels.themes["english"], labels.platforms["twitter"]):
        assert str(escape(label)) in text
    assert str(escape(labels.organisations["alt"])) in text and "@receiptwords" in text
    assert "What happens next" in text and "/id/community/receipt-words-circle" in text
    assert "@prefix" not in text  # the RDF is one link away
    assert f'href="{location}/contribution.ttl"' in text
    rdf = requests.get(f"{url}{location}/contribution.ttl", timeout=30)
    assert rdf.headers["Content-Type"].startswith("text/turtle") and "Receipt Words Circle" in rdf.text
    assert requests.get(f"{url}/contribute/{'x' * 24}/contribution.ttl", timeout=30).status_code == 404


def test_a_valid_contribution_goes_pending_and_is_not_public(contributing: tuple[str, Config]) -> None:
    url, config = contributing
    form = {
        "name": "Pending Maths Circle",
        "themes": ["maths", "pedagogy"],
        "source": "https://example.org/pending-maths",
        "platform": ["twitter", ""],
        "account": ["@pendingmathscircle", ""],
        "hashtags": "#PendingMaths",
    }
    response = requests.post(url + "/contribute", data=form, allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    shown = receipt(url, response.headers["Location"])
    receipt_id = shown["id"]
    assert shown["status"] == "pending"
    assert "Pending Maths Circle" in shown["turtle"]
    assert "pending" in requests.get(url + response.headers["Location"], timeout=30).text

    community = COMMUNITY + "pending-maths-circle"
    assert not ask(url, f"ASK {{ <{community}> ?p ?o }}")
    assert not ask(url, f"ASK {{ GRAPH <https://w3id.org/copgraph/graph/pending/{receipt_id}> {{ ?s ?p ?o }} }}")
    assert not ask(url, 'ASK { ?s ?p "#PendingMaths" }')
    assert "Pending Maths Circle" not in requests.get(url + "/communities", timeout=30).text
    assert not (config.root / "data" / "communities" / "pending-maths-circle.ttl").exists()


def test_an_invalid_contribution_is_refused_with_field_errors_and_nothing_kept(
    contributing: tuple[str, Config],
) -> None:
    url, config = contributing
    before = sorted(config.pending_dir.glob("*")) if config.pending_dir.exists() else []
    unknown_theme = contribute(url, answers("Theme Test Group", themes=["astrology"]))
    assert unknown_theme.status_code == 400
    assert "astrology" in unknown_theme.json()["errors"]["themes"][0]
    assert "maths" in unknown_theme.json()["errors"]["themes"][0]  # the known ones are listed

    no_source = contribute(url, {"name": "Sourceless Group", "themes": ["maths"]})
    assert no_source.status_code == 400 and "source" in no_source.json()["errors"]

    markup = contribute(url, answers("<script>alert(1)</script>Group"))
    assert markup.status_code == 400 and "HTML" in markup.json()["errors"]["name"][0]

    platform = contribute(url, answers("Platform Test Group", platforms=[{"platform": "myspace", "account": "x"}]))
    assert platform.status_code == 400 and "twitter" in platform.json()["errors"]["platforms"][0]

    html = requests.post(url + "/contribute", data={"name": "<b>Bold</b>", "themes": "maths"}, timeout=30)
    assert html.status_code == 400
    assert 'id="name-error"' in html.text and 'id="source-error"' in html.text
    assert "<b>Bold</b>" not in html.text  # escaped when shown back
    assert (sorted(config.pending_dir.glob("*")) if config.pending_dir.exists() else []) == before


def test_likely_duplicates_are_flagged_to_the_contributor_and_the_maintainer(contributing: tuple[str, Config]) -> None:
    url, _ = contributing
    shown = submitted(url, answers("FE Chat Evenings", homepage="http://www.ukfechat.com"))
    assert {"community": "ukfechat", "label": "#UKFEchat", "reason": "same homepage (http://www.ukfechat.com)"} in (
        shown["duplicates"]
    )
    similar = submitted(url, answers("UKFE chat", hashtags=["#UKFEchat"]))
    reasons = [d["reason"] for d in similar["duplicates"] if d["community"] == "ukfechat"]
    assert "same hashtag (#UKFEchat)" in reasons and any(r.startswith("similar name") for r in reasons)

    listed = requests.get(url + "/maintain/contributions", headers=AUTH | JSON, timeout=30).json()["pending"]
    assert [r["duplicates"] for r in listed if r["id"] == shown["id"]] == [shown["duplicates"]]
    page = requests.get(url + "/maintain/contributions", headers=AUTH, timeout=30).text
    assert "same homepage (http://www.ukfechat.com)" in page


# --- Review ----------------------------------------------------------------------------------------------------------


def test_a_missing_or_forged_token_cannot_approve_and_nothing_is_written(contributing: tuple[str, Config]) -> None:
    url, config = contributing
    shown = submitted(url, answers("Unauthorised Approval Network"))
    approve = f"{url}/maintain/contributions/{shown['id']}/approve"
    assert requests.post(approve, timeout=30).status_code == 401
    assert requests.post(approve, headers={"Authorization": "Bearer forged"}, timeout=30).status_code == 403
    assert requests.get(url + "/maintain/contributions", headers=JSON, timeout=30).status_code == 401

    browser = requests.Session()  # a logged-in session without the page's CSRF token is refused too
    login = browser.post(url + "/maintain/login", data={"token": TOKEN}, allow_redirects=False, timeout=30)
    assert login.status_code == 303
    assert browser.post(approve, data={"reason": "no csrf"}, timeout=30).status_code == 403
    forged_login = requests.post(url + "/maintain/login", data={"token": "forged"}, timeout=30)
    assert forged_login.status_code == 403

    assert receipt(url, shown["receipt"])["status"] == "pending"
    assert not (config.root / "data" / "communities" / "unauthorised-approval-network.ttl").exists()
    assert not ask(url, f"ASK {{ <{COMMUNITY}unauthorised-approval-network> ?p ?o }}")


def test_approval_publishes_the_record_in_the_store_and_in_data_with_provenance(
    contributing: tuple[str, Config],
) -> None:
    url, config = contributing
    shown = submitted(
        url,
        answers(
            "Approved Numeracy Forum",
            homepage="https://example.org/numeracy-forum",
            platforms=[{"platform": "twitter", "account": "@approvednumeracy"}],
            hashtags=["#ApprovedNumeracy"],
            organisation="etf",
            role="supportedBy",
            founded="2021",
            status="active",
        ),
    )
    community = COMMUNITY + "approved-numeracy-forum"
    review = requests.get(f"{url}/maintain/contributions/{shown['id']}", headers=AUTH | JSON, timeout=30).json()
    assert review["removed"] == [] and any("Approved Numeracy Forum" in t for t in review["added"])

    approved = requests.post(
        f"{url}/maintain/contributions/{shown['id']}/approve", json={"reason": "checked"}, headers=AUTH, timeout=60
    )
    assert approved.status_code == 200, approved.text
    assert receipt(url, shown["receipt"])["status"] == "approved"
    assert ask(url, f'ASK {{ <{community}> <http://www.w3.org/2000/01/rdf-schema#label> "Approved Numeracy Forum" }}')
    assert requests.get(url + "/id/community/approved-numeracy-forum", timeout=30).status_code == 200
    assert ask(
        url,
        f"ASK {{ ?a a <{PROV}Activity> ; <{PROV}generated> <{community}> ; <{PROV}endedAtTime> ?t ; "
        f'<http://www.w3.org/2000/01/rdf-schema#comment> "checked" }}',
    )

    record = config.root / "data" / "communities" / "approved-numeracy-forum.ttl"
    assert record.is_file() and "@approvednumeracy" in record.read_text()
    assert community in (config.root / "data" / "provenance.ttl").read_text()
    assert Validator(config.root).validate_files([record]).conforms
    again = requests.post(f"{url}/maintain/contributions/{shown['id']}/approve", headers=AUTH, timeout=30)
    assert again.status_code == 409


def test_an_update_shows_its_diff_against_the_current_record(contributing: tuple[str, Config]) -> None:
    url, _ = contributing
    current = requests.get(f"{url}/id/community/ukfechat", headers={"Accept": "text/turtle"}, timeout=30).text
    assert "Weekly term-time Twitter chat" in current
    body = answers("#UKFEchat", updates="ukfechat", description="A weekly chat for FE.", themes=["pedagogy"])
    shown = submitted(url, body | {"governance": "independent-practitioners", "status": "active"})
    review = requests.get(f"{url}/maintain/contributions/{shown['id']}", headers=AUTH | JSON, timeout=30).json()
    assert any("A weekly chat for FE." in t for t in review["added"])
    assert any("Weekly term-time Twitter chat" in t for t in review["removed"])
    assert not any("altLabel" in t for t in review["removed"])  # what the form does not cover is kept


def test_a_maintainer_logs_in_and_rejects_with_a_reason_kept_on_the_receipt(contributing: tuple[str, Config]) -> None:
    url, config = contributing
    shown = submitted(url, answers("Rejected Example Network"))
    browser = requests.Session()
    assert browser.get(url + "/maintain/contributions", timeout=30).status_code == 401  # the login form
    browser.post(url + "/maintain/login", data={"token": TOKEN}, timeout=30)
    page = browser.get(f"{url}/maintain/contributions/{shown['id']}", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reject = f"{url}/maintain/contributions/{shown['id']}/reject"
    assert browser.post(reject, data={"csrf": csrf, "reason": ""}, timeout=30).status_code == 400
    assert receipt(url, shown["receipt"])["status"] == "pending"

    rejected = browser.post(
        reject, data={"csrf": csrf, "reason": "No public source"}, allow_redirects=False, timeout=30
    )
    assert rejected.status_code == 303
    shown_after = receipt(url, shown["receipt"])
    assert (shown_after["status"], shown_after["reason"]) == ("rejected", "No public source")
    assert "No public source" in requests.get(url + shown["receipt"], timeout=30).text
    # The rejection is on the public record; its reason is for the contributor only (issue 14, point 8).
    assert ask(
        url,
        f"ASK {{ ?a a <{PROV}Activity> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l . "
        'FILTER(STRSTARTS(?l, "Rejection")) }',
    )
    assert not ask(url, 'ASK { ?s ?p "No public source" }')
    assert "No public source" not in (config.root / "data" / "provenance.ttl").read_text()
    assert not ask(url, f"ASK {{ <{COMMUNITY}rejected-example-network> ?p ?o }}")


def test_the_public_record_of_a_review_never_opens_its_receipt(contributing: tuple[str, Config]) -> None:
    """Issue 14, point 8: the receipt's address is a secret capability; provenance names only the contribution's
    public id, which opens nothing."""
    url, _ = contributing
    shown = submitted(url, answers("Capability Check Circle"))
    secret = shown["receipt"].rsplit("/", 1)[1]
    assert shown["id"] != secret
    rejected = requests.post(
        f"{url}/maintain/contributions/{shown['id']}/reject", json={"reason": "private words"}, headers=AUTH, timeout=60
    )
    assert rejected.status_code == 200, rejected.text
    everything = requests.get(
        url + "/sparql",
        params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
        timeout=60,
    ).text
    assert shown["id"] in everything  # the public id names the review's activity
    assert secret not in everything and "private words" not in everything
    assert requests.get(f"{url}/contribute/{shown['id']}", headers=JSON, timeout=30).status_code == 404
    assert receipt(url, shown["receipt"])["reason"] == "private words"


# --- A crash in the middle of an approval --------------------------------------------------------------------------

# Runs the real approval in its own process, with a SIGKILL at one step: "store" inside the store write (before the
# new generation is swapped in), "files" after the swap and before the record file is written.
CRASHING_APPROVAL = """
import os, signal, sys
from pathlib import Path
from copgraph.contributions import review
from copgraph.core.config import Config

root, receipt_id, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
config = Config.from_env(environ={}, root=root, store=root / "store")
die = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
if step == "store":
    review._replace_graph = die
review.approve(config, receipt_id, "crash test", after_store_write=die if step == "files" else None)
"""


def crash_approval(config: Config, receipt_id: str, step: str) -> None:
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_APPROVAL, str(config.root), receipt_id, step], capture_output=True, timeout=120
    )
    assert process.returncode == -9, process.stderr


def test_a_crash_during_approval_leaves_the_old_or_the_new_state_never_half(tmp_path: Path) -> None:
    config = scratch(tmp_path / "root")
    known = known_values(open_dataset(config))
    body = {"name": ["Crash Test Circle"], "themes": ["maths"], "source": ["https://example.org/crash"]}
    answers_ = check_answers(body, known)
    pending, _ = submit(config, answers_, community_graph(answers_, known), [])
    record = config.root / "data" / "communities" / "crash-test-circle.ttl"
    published = f"ASK {{ <{COMMUNITY}crash-test-circle> ?p ?o }}"
    env = {**os.environ, "COPGRAPH_ROOT": str(config.root), "COPGRAPH_STORE": str(config.store_dir)}

    # Killed inside the store write: the old state everywhere, and a build goes ahead (unvalidated here, for speed:
    # the files are the repository's own, validated by the last step of this test).
    crash_approval(config, pending["id"], "store")
    assert not open_dataset(config).query(published)
    assert not record.exists() and find_receipt(config, pending["id"])["status"] == "pending"
    command = copgraph_command("build", "--no-validate")
    rebuilt = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr

    # Killed after the swap: the new state in the store (whole), the file not yet written; the build check refuses
    # to drop it until it is exported, and the export writes exactly the approved record.
    crash_approval(config, pending["id"], "files")
    assert open_dataset(config).query(published)
    assert not record.exists()
    refused = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "copgraph export" in refused.stderr
    assert "graph/communities/crash-test-circle" in refused.stderr and "graph/provenance" in refused.stderr
    exported = subprocess.run(copgraph_command("export"), env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert "Crash Test Circle" in record.read_text()
    rebuilt = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert open_dataset(config).query(published)


# --- Rate limit ----------------------------------------------------------------------------------------------------


def test_contributions_over_the_rate_limit_are_429_with_retry_after_and_write_nothing(
    contributing: tuple[str, Config],
) -> None:
    """One worker, so the per-worker allowance is the whole allowance: three requests a minute, then 429."""
    _, config = contributing
    with running_server(config.root, config.store_dir, workers=1, rate_limit_per_minute="3") as url:
        for _ in range(3):  # spent on refused contributions, so none of them writes anything either
            assert contribute(url, {"name": "Over The Limit Group"}).status_code == 400
        before = sorted(config.pending_dir.glob("*")) if config.pending_dir.exists() else []
        limited = contribute(url, answers("Over The Limit Group"))
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        assert "Too many requests" in limited.json()["error"]
        form = requests.post(url + "/contribute", data={"name": "x"}, headers={"Accept": "text/html"}, timeout=30)
        assert form.status_code == 429 and form.headers["Retry-After"]
        assert (sorted(config.pending_dir.glob("*")) if config.pending_dir.exists() else []) == before
        assert requests.get(url + "/contribute", timeout=30).status_code == 200  # the form itself is not limited


# --- Expiry of reviewed contributions ------------------------------------------------------------------------------


def offline_contribution(config: Config, name: str) -> dict:
    """A contribution kept pending with the real submit(), without a store (no platforms, hashtags or organisations)."""
    known = Known({}, {}, {}, {}, {}, {}, {}, {}, {})
    answers_ = Answers(name=name, slug=slugify(name), themes=["maths"])
    answers_.source = "https://example.org/" + answers_.slug
    return submit(config, answers_, community_graph(answers_, known), [])[0]


def closed_on(config: Config, receipt_: dict, status: str, stamp: str) -> None:
    save_receipt(config, receipt_ | {"status": status, "updated": stamp})


def test_prune_pending_removes_only_contributions_reviewed_longer_ago_than_asked(tmp_path: Path) -> None:
    config = Config.from_env(environ={}, root=tmp_path, store=tmp_path / "store")
    old_approved, old_rejected, recent_rejected, old_pending = (
        offline_contribution(config, name) for name in ("Old Approved", "Old Rejected", "Recent Rejected", "Waiting")
    )
    closed_on(config, old_approved, "approved", "2026-01-01T10:00:00Z")
    closed_on(config, old_rejected, "rejected", "2026-01-05T10:00:00Z")
    closed_on(config, recent_rejected, "rejected", "2026-01-28T10:00:00Z")
    closed_on(config, old_pending, "pending", "2025-06-01T10:00:00Z")  # never reviewed: kept however old
    (config.pending_dir / "notes.json").write_text("[not a receipt]")

    removed = prune_pending(config, 7, at=datetime(2026, 2, 1, tzinfo=UTC))

    gone = {old_approved["id"], old_rejected["id"]}
    assert sorted(p.name for p in removed) == sorted(f"{i}.{suffix}" for i in gone for suffix in ("json", "trig"))
    assert [find_receipt(config, i) for i in gone] == [None, None]
    for kept in (recent_rejected, old_pending):
        assert find_receipt(config, kept["id"])["status"] in ("rejected", "pending")
        assert contributed_triples(config, kept["id"])  # its TriG is still there
    assert (config.pending_dir / "notes.json").exists()
    assert prune_pending(config, 7, at=datetime(2026, 2, 1, tzinfo=UTC)) == []


def test_prune_pending_removes_old_leftovers_of_interrupted_submissions_but_never_fresh_ones(tmp_path: Path) -> None:
    config = Config.from_env(environ={}, root=tmp_path, store=tmp_path / "store")
    kept = offline_contribution(config, "Still Pending")
    directory = config.pending_dir
    orphan, fresh_orphan, temporary = directory / "orphan.trig", directory / "fresh.trig", directory / ".x.json.1.tmp"
    for path in (orphan, fresh_orphan, temporary):
        path.write_text("")
    two_days_ago = time.time() - 2 * 86400
    for path in (orphan, temporary, directory / f"{kept['id']}.trig"):
        os.utime(path, (two_days_ago, two_days_ago))

    removed = prune_pending(config, 0)  # 0 days: but a submission being written is never touched

    assert sorted(removed) == sorted([orphan, temporary])
    assert fresh_orphan.exists()
    assert contributed_triples(config, kept["id"])  # a pending contribution's TriG, however old


@pytest.mark.parametrize("days", [-1, float("nan")])
def test_prune_pending_refuses_an_age_that_is_not_a_number_of_days(tmp_path: Path, days: float) -> None:
    config = Config.from_env(environ={}, root=tmp_path, store=tmp_path / "store")
    with pytest.raises(ValueError, match="--older-than must be a number of days"):
        prune_pending(config, days)
