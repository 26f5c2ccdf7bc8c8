"""The human paths of issue 17, through a real server: every thing's page is a hub of its communities and
connections, "put yourself on the map" can be found and its form explains itself, and the small things every page
needs (a favicon, a description, /changes on audits that differ, JSON links that stay JSON).

Expectations come from SPARQL over the same store (the `dataset` fixture), never from numbers in the test.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import requests

from copgraph.core.vocab import sparql_prefixes, thing
from copgraph.model.audit_changes import audit_years, compare
from copgraph.store.reader import Dataset
from tests.conftest import REPO

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
# Each kind of hub, one example, and the graph pattern that says which communities ?c it gathers.
HUBS = {
    ("theme", "maths"): f"?c dct:subject <{thing('theme', 'maths')}>",
    ("platform", "twitter"): f"?c cop:hasPresence/cop:onPlatform <{thing('platform', 'twitter')}>",
    ("hashtag", "ukfechat"): f"?c cop:hashtag <{thing('hashtag', 'ukfechat')}>",
    ("organisation", "alt"): f"?c ?role <{thing('organisation', 'alt')}> . ?role rdfs:subPropertyOf* cop:supportedBy",
    ("status", "active"): f"?c cop:status <{thing('status', 'active')}>",
    ("audit", "2021"): f"?record cop:observedCommunity|cop:figureOf ?c ; cop:inAudit <{thing('audit', '2021')}>",
}


def communities(dataset: Dataset, where: str) -> set[str]:
    query = sparql_prefixes() + f"SELECT DISTINCT ?c WHERE {{ ?c a cop:CommunityOfPractice . {where} }}"
    return {solution["c"].value for solution in dataset.query(query)}


def path_of(iri: str) -> str:
    return "/" + iri.split("/copgraph/", 1)[1]


# --- hubs -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "slug"), list(HUBS))
def test_a_things_page_lists_and_links_exactly_its_communities(
    server: str, dataset: Dataset, kind: str, slug: str
) -> None:
    expected = communities(dataset, HUBS[(kind, slug)])
    text = requests.get(f"{server}/doc/{kind}/{slug}", headers=HTML, timeout=10).text
    assert f"Communities ({len(expected)})" in text
    for iri in expected:
        assert f'href="{path_of(iri)}"' in text, iri
    hub = requests.get(f"{server}/hub/{kind}/{slug}", timeout=10).json()
    assert {community["iri"] for community in hub["communities"]} == expected
    assert hub["total"] == len(expected) and hub["record"] == f"/doc/{kind}/{slug}"


def test_a_hub_links_its_communities_to_the_filtered_list(server: str) -> None:
    text = requests.get(f"{server}/doc/platform/twitter", headers=HTML, timeout=10).text
    assert 'href="/communities?platform=twitter"' in text and 'href="/contribute"' in text


def test_a_platform_hub_counts_the_platforms_used_together_with_it(server: str, dataset: Dataset) -> None:
    members = communities(dataset, HUBS[("platform", "twitter")])
    query = sparql_prefixes() + "SELECT DISTINCT ?c ?p WHERE { ?c cop:hasPresence/cop:onPlatform ?p }"
    together = Counter(s["p"].value for s in dataset.query(query) if s["c"].value in members)
    del together[thing("platform", "twitter")]
    connections = requests.get(f"{server}/hub/platform/twitter", timeout=10).json()["connections"]["platform"]
    assert connections["heading"] == "Platforms used together with it"
    assert connections["total"] == len(together)
    for item in connections["items"]:
        assert item["communities"] == together[item["iri"]], item
    counts = [item["communities"] for item in connections["items"]]
    assert counts == sorted(counts, reverse=True) and counts[0] == max(together.values())


def test_a_theme_hub_names_related_themes_and_the_organisations_that_support_its_communities(
    server: str, dataset: Dataset
) -> None:
    members = communities(dataset, HUBS[("theme", "maths")])
    query = (
        sparql_prefixes() + "SELECT DISTINCT ?c ?o WHERE { ?c ?role ?o . ?role rdfs:subPropertyOf* cop:supportedBy }"
    )
    supporters = Counter(s["o"].value for s in dataset.query(query) if s["c"].value in members)
    hub = requests.get(f"{server}/hub/theme/maths", timeout=10).json()
    assert "theme" in hub["connections"] and thing("theme", "maths") not in {
        item["iri"] for item in hub["connections"]["theme"]["items"]
    }
    shown = {
        item["iri"]: item["communities"] for item in hub["connections"].get("organisation", {"items": []})["items"]
    }
    assert shown == {iri: n for iri, n in supporters.items() if iri in shown} and len(shown) == min(len(supporters), 12)
    text = requests.get(f"{server}/doc/theme/maths", headers=HTML, timeout=10).text
    assert "Related themes" in text and "How it connects" in text


def test_the_record_stays_the_record_in_rdf(server: str, dataset: Dataset) -> None:
    members = communities(dataset, HUBS[("platform", "twitter")])
    turtle = requests.get(f"{server}/doc/platform/twitter.ttl", timeout=10).text
    assert not any(f"<{iri}>" in turtle for iri in members)


@pytest.mark.parametrize("path", ["/hub/community/ukfechat", "/hub/theme/no-such-theme", "/hub/widget/x"])
def test_only_things_the_data_holds_have_a_hub(server: str, path: str) -> None:
    response = requests.get(server + path, headers=JSON, timeout=10)
    assert response.status_code == 404 and "hub" in response.json()["error"]


# --- put yourself on the map ------------------------------------------------------------------------------------


def test_the_home_page_and_every_page_lead_to_the_contribution_form(server: str) -> None:
    home = requests.get(server + "/", headers=HTML, timeout=10).text
    assert 'class="cta-button" href="/contribute">Put yourself on the map</a>' in home
    assert "is planned" not in home
    assert 'href="/changes"' in home and 'href="/validate"' in home
    for path in ["/communities", "/doc/theme/maths", "/audits"]:
        text = requests.get(server + path, headers=HTML, timeout=10).text
        nav = text[text.index('<nav aria-label="Site">') : text.index("</nav>")]
        assert 'href="/contribute"' in nav, path
        footer = text[text.index('<footer class="site-footer">') :]
        assert 'href="/maintain/login"' in footer and 'href="/validate"' in footer, path


def test_a_form_with_errors_has_a_linked_summary_and_marks_each_field(server: str) -> None:
    response = requests.post(server + "/contribute", data={"name": "", "themes": "maths"}, headers=HTML, timeout=10)
    assert response.status_code == 400
    text = response.text
    assert re.search(r"<title>Error: ", text)
    summary = text[text.index('<div class="error-summary"') : text.index("</div>", text.index("error-summary"))]
    assert 'href="#name"' in summary and 'href="#source"' in summary
    assert re.search(r'<input id="name"[^>]* aria-invalid="true" aria-describedby="name-error"', text)
    assert re.search(r'<input id="source"[^>]* aria-invalid="true" aria-describedby="source-hint source-error"', text)
    assert 'id="name-error"' in text and 'id="source-error"' in text
    assert not re.search(r'<input id="homepage"[^>]* aria-invalid', text)  # only fields with errors are marked


def test_a_handle_without_a_platform_says_so(server: str) -> None:
    form = {"name": "Handle Only Group", "themes": "maths", "platform": "", "account": "@handleonly"}
    response = requests.post(server + "/contribute", data=form, headers=JSON, timeout=10)
    message = response.json()["errors"]["platforms"][0]
    assert "'@handleonly' has no platform" in message and "(none)" not in message


def test_refusals_name_known_values_by_label(server: str, dataset: Dataset) -> None:
    body = {"name": "Label Test Group", "themes": ["astrology"], "source": "https://example.org/label-test"}
    response = requests.post(server + "/contribute", json=body, headers=JSON, timeout=10)
    message = response.json()["errors"]["themes"][0]
    query = sparql_prefixes() + f"SELECT ?l WHERE {{ <{thing('theme', 'maths')}> skos:prefLabel|rdfs:label ?l }}"
    label = next(iter(dataset.query(query)))["l"].value
    assert f"{label} (maths)" in message


# --- every page -------------------------------------------------------------------------------------------------

PAGES = ["/", "/communities", "/doc/theme/maths", "/doc/community/ukfechat", "/contribute", "/changes", "/audits"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_favicon_and_a_description(server: str, path: str) -> None:
    text = requests.get(server + path, headers=HTML, timeout=10).text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in text
    description = re.search(r'<meta name="description" content="([^"]+)">', text)
    assert description and len(description.group(1)) > 40, path


def test_a_records_description_names_it(server: str) -> None:
    text = requests.get(f"{server}/doc/platform/twitter", headers=HTML, timeout=10).text
    description = re.search(r'<meta name="description" content="([^"]+)">', text).group(1)
    assert description.startswith("Twitter") and "communities" in description


def test_the_favicon_is_served(server: str) -> None:
    icon = requests.get(server + "/static/favicon.svg", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
    legacy = requests.get(server + "/favicon.ico", allow_redirects=False, timeout=10)
    assert legacy.status_code == 301 and legacy.headers["Location"].endswith("/static/favicon.svg")


def test_changes_opens_on_the_latest_pair_of_audits_that_differ(server: str, dataset: Dataset) -> None:
    years = audit_years(dataset)
    pairs = list(zip(years, years[1:], strict=False))[::-1]
    differing = [pair for pair in pairs if any(compare(dataset, REPO, *pair).counts.values())]
    expected = (differing or pairs)[0]
    data = requests.get(server + "/changes", headers=JSON, timeout=10).json()
    assert (data["from_year"], data["to_year"]) == expected
    text = requests.get(server + "/changes", headers=HTML, timeout=10).text
    assert re.findall(r'<option value="(\d{4})"', text) == years[:-1] + years[1:]
    assert f'<option value="{expected[0]}" selected>' in text and f'<option value="{expected[1]}" selected>' in text


def test_list_links_keep_format_json(server: str, dataset: Dataset) -> None:
    total = len(communities(dataset, ""))
    response = requests.get(server + "/communities", params={"format": "json"}, timeout=10)
    body = response.json()
    if total <= body["page_size"]:
        pytest.skip("one page of communities: no next link")
    assert "format=json" in body["links"]["next"] and "format=json" in body["links"]["self"]
    following = requests.get(server + body["links"]["next"], timeout=10)  # no Accept: format=json alone
    assert following.headers["Content-Type"].startswith("application/json")
    assert following.json()["page"] == 2
