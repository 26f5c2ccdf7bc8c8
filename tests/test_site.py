"""The site a person sees: the home page, browse pages, search and their JSON twins, through a real server.

Every expectation about the data is checked against an independent SPARQL query over the same store (the `dataset`
fixture), never against numbers written into the test.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from markupsafe import escape

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.core.vocab import sparql_prefixes, thing
from copgraph.store.reader import Dataset
from tests.conftest import running_server

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
NAV = [
    "/",
    "/communities",
    "/platforms",
    "/hashtags",
    "/themes",
    "/organisations",
    "/audits",
    "/map",
    "/charts",
    "/sparql",
    "/queries",
    "/dataset",
    "/contribute",
]
SITE_PAGES = [
    "/",
    "/communities",
    "/communities?platform=twitter&sort=founded&order=desc",
    "/communities?page=2",
    "/platforms",
    "/hashtags",
    "/themes",
    "/organisations",
    "/audits",
    "/search",
    "/search?q=ukfechat",
    "/search?q=no-such-community-anywhere",
]
UKFECHAT = thing("community", "ukfechat")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- helpers ----------------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """What the tests look for in a page: headings, form controls and their labels, links, scripts, nesting."""

    def __init__(self, text: str):
        super().__init__()
        self.h1 = 0
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.links: list[str] = []
        self.scripts = 0
        self.problems: list[str] = []
        self.open: list[str] = []
        self.texts: dict[str, list[str]] = {}  # class of a <dl> -> its dt/dd texts in order
        self._collecting: str | None = None
        self.feed(text)
        self.close()
        if self.open:
            self.problems.append(f"never closed: {self.open}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)
        if tag == "h1":
            self.h1 += 1
        elif tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        elif tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"] or "")
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "script":
            self.scripts += 1
        elif tag == "dl":
            self._collecting = attributes.get("class") or ""
            self.texts.setdefault(self._collecting, [])
        elif tag in ("dt", "dd") and self._collecting is not None:
            self.texts[self._collecting].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()
        if tag == "dl":
            self._collecting = None

    def handle_data(self, data: str) -> None:
        if self._collecting is not None and self.texts[self._collecting]:
            self.texts[self._collecting][-1] += data.strip()


def get(server: str, path: str, headers: dict[str, str] | None = None, **params: str) -> requests.Response:
    return requests.get(server + path, headers=headers or HTML, params=params or None, timeout=10)


def select_set(dataset: Dataset, where: str) -> set[str]:
    """IRIs of the communities matching a graph pattern on ?c, from the store itself."""
    query = sparql_prefixes() + f"SELECT DISTINCT ?c WHERE {{ ?c a cop:CommunityOfPractice . {where} }}"
    return {solution["c"].value for solution in dataset.query(query)}


def all_listed(server: str, **params: str) -> list[str]:
    """Every community IRI /communities lists for these parameters, following `next` links through every page."""
    iris: list[str] = []
    response = get(server, "/communities", JSON, **params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        iris += [community["iri"] for community in body["communities"]]
        if not body["links"]["next"]:
            return iris
        response = requests.get(server + body["links"]["next"], headers=JSON, timeout=10)


# --- the home page ----------------------------------------------------------------------------------------------


def test_home_page_shows_the_counts_the_data_holds(server: str, dataset: Dataset) -> None:
    page = Page(get(server, "/").text)
    shown = dict(zip(page.texts["counts"][::2], page.texts["counts"][1::2], strict=True))
    kinds = {
        "Communities": "?x a cop:CommunityOfPractice",
        "Platforms": "?x a cop:Platform",
        "Themes": f"?x skos:inScheme <{thing('scheme', 'theme')}>",
        "Organisations": "?x a org:Organization",
        "Hashtags": "?x a cop:Hashtag",
        "Audits": "?x a cop:SectorAudit",
    }
    for label, pattern in kinds.items():
        query = sparql_prefixes() + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}"
        assert shown[label] == next(iter(dataset.query(query)))["n"].value, label
    assert shown["Triples"] == str(dataset.metadata.triples)


def test_home_page_has_a_search_box_and_every_way_into_the_data(server: str) -> None:
    text = get(server, "/").text
    page = Page(text)
    assert '<form class="home-search" role="search" action="/search" method="get">' in text
    for href in ["/communities", "/platforms", "/hashtags", "/themes", "/organisations", "/audits"]:
        assert href in page.links
    for href in ["/map", "/sparql", "/queries", "/dataset"]:
        assert href in page.links
    assert "network of networks" in text
    assert 'id="contribute-heading"' in text and "pull request" in text


def test_home_page_shows_the_audits_published_figures_with_sources(server: str, dataset: Dataset) -> None:
    text = get(server, "/").text
    query = (
        sparql_prefixes()
        + "SELECT ?label ?source WHERE { ?f a cop:PublishedFigure ; rdfs:label ?label ; dct:source ?source }"
    )
    for solution in dataset.query(query):
        assert str(escape(solution["label"].value)) in text
        assert f'href="{escape(solution["source"].value)}"' in text


# --- navigation -------------------------------------------------------------------------------------------------


def test_every_page_has_the_site_navigation_in_order(server: str) -> None:
    text = get(server, "/communities").text
    nav = text[text.index('<nav aria-label="Site">') : text.index("</nav>")]
    assert re.findall(r'href="([^"]+)"', nav) == NAV
    assert '<a href="/communities" aria-current="page">' in nav
    assert '<a class="skip-link" href="#main">' in text and '<main id="main"' in text


@pytest.mark.parametrize("path", NAV)
def test_navigation_link_answers(server: str, path: str) -> None:
    response = get(server, path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")


def test_footer_gives_version_build_time_licence_and_sources(server: str, dataset: Dataset) -> None:
    text = get(server, "/platforms").text
    footer = text[text.index('<footer class="site-footer">') :]
    assert dataset.version in footer and dataset.metadata.built_at in footer
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in footer and "CC BY-SA 4.0" in footer
    assert "Sources" in footer


# --- /communities: filters --------------------------------------------------------------------------------------


FILTERS = {
    "platform=twitter": (
        {"platform": "twitter"},
        f"?c cop:hasPresence/cop:onPlatform <{thing('platform', 'twitter')}>",
    ),
    "theme=esol": ({"theme": "esol"}, f"?c dct:subject <{thing('theme', 'esol')}>"),
    "status=active": ({"status": "active"}, f"?c cop:status <{thing('status', 'active')}>"),
    "status=closed": ({"status": "closed"}, f"?c cop:status <{thing('status', 'closed')}>"),
    "audit=2021": (
        {"audit": "2021"},
        '?record cop:observedCommunity|cop:figureOf ?c ; cop:inAudit/cop:auditYear "2021"^^xsd:gYear',
    ),
    "organisation=jisc": (
        {"organisation": "jisc"},
        f"?c ?role <{thing('organisation', 'jisc')}> . ?role rdfs:subPropertyOf* cop:supportedBy",
    ),
    "hashtag=ukfechat": ({"hashtag": "ukfechat"}, f"?c cop:hashtag <{thing('hashtag', 'ukfechat')}>"),
    "platform=twitter&theme=esol": (
        {"platform": "twitter", "theme": "esol"},
        f"?c cop:hasPresence/cop:onPlatform <{thing('platform', 'twitter')}> ; dct:subject <{thing('theme', 'esol')}>",
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filter_lists_exactly_the_communities_the_data_says(server: str, dataset: Dataset, name: str) -> None:
    params, where = FILTERS[name]
    expected = select_set(dataset, where)
    listed = all_listed(server, **params)
    assert len(listed) == len(set(listed))
    assert set(listed) == expected
    assert get(server, "/communities", JSON, **params).json()["total"] == len(expected)


def test_a_filter_that_matches_nothing_says_so(server: str, dataset: Dataset) -> None:
    audit_years = [s["y"].value for s in dataset.query(sparql_prefixes() + "SELECT ?y { ?a cop:auditYear ?y }")]
    empty = [
        year
        for year in audit_years
        if not select_set(dataset, f'?r cop:observedCommunity ?c ; cop:inAudit/cop:auditYear "{year}"^^xsd:gYear')
    ]
    if not empty:
        pytest.skip("every audit year has a community observed in it")
    response = get(server, "/communities", audit=empty[0])
    assert response.status_code == 200
    assert "No communities match these filters." in response.text


def test_filter_options_come_from_the_data(server: str, dataset: Dataset) -> None:
    text = get(server, "/communities").text
    for solution in dataset.query(sparql_prefixes() + "SELECT ?p WHERE { ?p a cop:Platform }"):
        slug = solution["p"].value.rsplit("/", 1)[1]
        assert f'<option value="{slug}"' in text
    twitter = select_set(dataset, f"?c cop:hasPresence/cop:onPlatform <{thing('platform', 'twitter')}>")
    assert re.search(rf'<option value="twitter">Twitter \({len(twitter)}\)</option>', text)
    selected = get(server, "/communities", platform="twitter").text
    assert '<option value="twitter" selected>' in selected


def test_filter_form_is_a_labelled_get_form(server: str) -> None:
    text = get(server, "/communities").text
    assert '<form class="filters" action="/communities" method="get"' in text
    for name in ["platform", "theme", "status", "audit", "organisation", "hashtag", "sort", "order"]:
        assert f'name="{name}"' in text


# --- /communities: sorting and pages ----------------------------------------------------------------------------


def names_and_founded(server: str, **params: str) -> list[tuple[str, str | None]]:
    rows: list[tuple[str, str | None]] = []
    response = get(server, "/communities", JSON, **params)
    while True:
        body = response.json()
        rows += [(c["name"], c["founded"]) for c in body["communities"]]
        if not body["links"]["next"]:
            return rows
        response = requests.get(server + body["links"]["next"], headers=JSON, timeout=10)


def sort_key(name: str) -> str:
    return re.sub(r"^\W+", "", name.casefold())


def test_sorted_by_name_both_ways(server: str) -> None:
    ascending = [name for name, _ in names_and_founded(server)]
    assert [sort_key(n) for n in ascending] == sorted(sort_key(n) for n in ascending)
    descending = [name for name, _ in names_and_founded(server, sort="name", order="desc")]
    assert descending == ascending[::-1]


def test_sorted_by_founding_year_with_undated_communities_last(server: str, dataset: Dataset) -> None:
    for order, reverse in (("asc", False), ("desc", True)):
        rows = names_and_founded(server, sort="founded", order=order)
        years = [founded for _, founded in rows if founded]
        assert years == sorted(years, reverse=reverse)
        assert all(founded is None for _, founded in rows[len(years) :])
    dated = select_set(dataset, "?c schema:foundingDate ?year")
    assert len(years) == len(dated)


def test_sorted_by_status(server: str) -> None:
    statuses = [c["status"]["label"] for c in get(server, "/communities", JSON, sort="status").json()["communities"]]
    assert statuses == sorted(statuses, key=str.casefold)


def test_pages_hold_25_communities_and_together_all_of_them(server: str, dataset: Dataset) -> None:
    everyone = select_set(dataset, "")
    if len(everyone) <= 25:
        pytest.skip("25 communities or fewer: there is no second page")
    first = get(server, "/communities", JSON).json()
    assert first["total"] == len(everyone) and first["page_size"] == 25
    assert first["pages"] == math.ceil(len(everyone) / 25)
    assert len(first["communities"]) == 25 and first["links"]["prev"] is None
    second = get(server, "/communities", JSON, page="2").json()
    assert len(second["communities"]) == min(25, len(everyone) - 25)
    assert second["links"]["prev"] == "/communities"
    listed = all_listed(server)
    assert len(listed) == len(set(listed)) and set(listed) == everyone


def test_pages_link_previous_and_next_keeping_filters(server: str) -> None:
    text = get(server, "/communities", page="2").text
    assert '<a href="/communities" rel="prev">' in text
    assert '<a href="/communities?page=3" rel="next">' in text or get(server, "/communities", JSON).json()["pages"] == 2
    sorted_page = get(server, "/communities", sort="founded", order="desc").text
    assert 'href="/communities?sort=founded&amp;order=desc&amp;page=2" rel="next"' in sorted_page


def test_a_page_past_the_end_is_404_with_a_message(server: str) -> None:
    pages = get(server, "/communities", JSON).json()["pages"]
    response = get(server, "/communities", page=str(pages + 1))
    assert response.status_code == 404
    assert f"There is no page {pages + 1}" in response.text
    assert Page(response.text).h1 == 1


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "99999999999"])
def test_a_page_that_is_not_a_whole_number_from_1_is_400(server: str, page: str) -> None:
    response = get(server, "/communities", page=page)
    assert response.status_code == 400 and "whole number" in response.text


# --- bad requests -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"platform": "myspace"},
        {"theme": "<script>alert(1)</script>"},
        {"status": "ACTIVE"},
        {"audit": "1999"},
        {"audit": "twenty"},
        {"organisation": "https://w3id.org/copgraph/id/organisation/jisc"},
        {"hashtag": "#ukfechat"},
        {"sort": "members"},
        {"order": "up"},
        {"platfrom": "twitter"},
        {"format": "csv"},
    ],
)
def test_unknown_filter_values_are_400_with_a_clear_page(server: str, params: dict[str, str]) -> None:
    response = get(server, "/communities", **params)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    page = Page(response.text)
    assert page.h1 == 1 and not page.problems
    assert "<script>alert" not in response.text
    name, value = next(iter(params.items()))
    assert str(escape(repr(value))) in response.text or str(escape(repr(name))) in response.text


def test_bad_requests_answer_json_to_json_clients(server: str) -> None:
    response = get(server, "/communities", JSON, platform="myspace")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and "myspace" in body["error"] and "twitter" in body["error"]


def test_a_filter_given_twice_is_400(server: str) -> None:
    response = requests.get(server + "/communities?platform=twitter&platform=zoom", headers=HTML, timeout=10)
    assert response.status_code == 400 and "at most once" in response.text


# --- lists of things --------------------------------------------------------------------------------------------


COUNTED = {
    "/platforms": ("platform", "?c cop:hasPresence/cop:onPlatform ?x . ?x a cop:Platform"),
    "/hashtags": ("hashtag", "?c cop:hashtag ?x"),
    "/themes": ("theme", f"?c dct:subject ?x . ?x skos:inScheme <{thing('scheme', 'theme')}>"),
    "/organisations": ("organisation", "?c ?role ?x . ?role rdfs:subPropertyOf* cop:supportedBy"),
}


@pytest.mark.parametrize("path", COUNTED)
def test_list_counts_match_the_data_and_the_filtered_view(server: str, dataset: Dataset, path: str) -> None:
    facet, where = COUNTED[path]
    query = (
        sparql_prefixes()
        + f"SELECT ?x (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a cop:CommunityOfPractice . {where} }} GROUP BY ?x"
    )
    expected = {s["x"].value: int(s["n"].value) for s in dataset.query(query)}
    items = get(server, path, JSON).json()["items"]
    assert {item["iri"]: item["communities"] for item in items if item["communities"]} == expected
    counts = [item["communities"] for item in items]
    assert counts == sorted(counts, reverse=True)
    for item in items:
        assert item["href"] == "/id/" + item["iri"].split("/id/", 1)[1]
        assert item["communities_href"] == f"/communities?{facet}={item['value']}"
        filtered = requests.get(server + item["communities_href"], headers=JSON, timeout=10).json()
        assert filtered["total"] == item["communities"]


def test_organisations_are_counted_per_role(server: str, dataset: Dataset) -> None:
    query = sparql_prefixes() + (
        f"SELECT ?role (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c ?role <{thing('organisation', 'jisc')}> . "
        "?role rdfs:subPropertyOf* cop:supportedBy } GROUP BY ?role"
    )
    expected = {s["role"].value: int(s["n"].value) for s in dataset.query(query)}
    jisc = next(item for item in get(server, "/organisations", JSON).json()["items"] if item["value"] == "jisc")
    assert {role["role"]["iri"]: role["communities"] for role in jisc["roles"]} == expected
    assert "<li>hosted by (" in get(server, "/organisations").text


def test_audits_list_year_publisher_and_published_figures(server: str, dataset: Dataset) -> None:
    items = {item["year"]: item for item in get(server, "/audits", JSON).json()["items"]}
    query = sparql_prefixes() + (
        "SELECT ?year ?publisher (COUNT(DISTINCT ?figure) AS ?figures) WHERE { ?audit a cop:SectorAudit ; "
        "cop:auditYear ?year ; dct:publisher ?publisher "
        "OPTIONAL { ?figure a cop:PublishedFigure ; cop:inAudit ?audit } } "
        "GROUP BY ?year ?publisher"
    )
    rows = list(dataset.query(query))
    assert set(items) == {s["year"].value for s in rows}
    for solution in rows:
        audit = items[solution["year"].value]
        assert audit["publisher"]["iri"] == solution["publisher"].value
        assert len(audit["figures"]) == int(solution["figures"].value)
        assert audit["communities_href"] == f"/communities?audit={audit['year']}"
    text = get(server, "/audits").text
    assert "130 communities" in text or not any(f["value"] == 130 for a in items.values() for f in a["figures"])


# --- search -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["ukfechat", "#UKFEchat", "@theukfechat", "UKFE", "  UKFECHAT  ", "＃ukfechat"])
def test_search_finds_a_community_by_name_hashtag_or_handle_whatever_the_case(server: str, q: str) -> None:
    body = get(server, "/search", JSON, q=q).json()
    found = {result["iri"]: result for result in body["results"]}
    assert UKFECHAT in found
    assert found[UKFECHAT]["matches"]
    assert body["total"] == len(body["results"])


def test_search_says_what_matched(server: str) -> None:
    matches = get(server, "/search", JSON, q="@theukfechat").json()["results"][0]["matches"]
    assert {"field": "handle on Twitter", "value": "@theukfechat"} in matches
    text = get(server, "/search", q="#UKFEchat").text
    assert "matched hashtag: <mark>#UKFEchat</mark>" in text
    assert '<a href="/id/community/ukfechat">#UKFEchat</a>' in text


def test_search_puts_exact_matches_first(server: str) -> None:
    results = get(server, "/search", JSON, q="ukfechat").json()["results"]
    assert results[0]["iri"] == UKFECHAT


def test_search_matches_alternate_names(server: str, dataset: Dataset) -> None:
    query = sparql_prefixes() + "SELECT ?c ?alt WHERE { ?c a cop:CommunityOfPractice ; skos:altLabel ?alt } LIMIT 1"
    solution = next(iter(dataset.query(query)))
    results = get(server, "/search", JSON, q=solution["alt"].value.upper()).json()["results"]
    assert solution["c"].value in {r["iri"] for r in results}


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "#"}])
def test_search_without_a_term_shows_the_form_and_a_hint(server: str, params: dict[str, str]) -> None:
    response = get(server, "/search", **params)
    assert response.status_code == 200
    assert '<input id="search-q" name="q" type="search"' in response.text
    assert 'class="hint"' in response.text
    assert get(server, "/search", JSON, **params).json()["results"] == []


def test_search_with_no_match_says_so(server: str) -> None:
    response = get(server, "/search", q="zzzz-nothing-called-this")
    assert response.status_code == 200 and "No community has a name" in response.text


def test_search_term_over_200_characters_is_400(server: str) -> None:
    assert get(server, "/search", q="a" * 200).status_code == 200
    response = get(server, "/search", q="a" * 201)
    assert response.status_code == 400 and "at most 200" in response.text


def test_search_echoes_the_term_as_text(server: str) -> None:
    response = get(server, "/search", q="<script>alert(1)</script>")
    assert response.status_code == 200
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# --- JSON -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/communities", "/platforms", "/hashtags", "/themes", "/organisations", "/audits", "/search?q=esol"]
)
def test_every_browse_page_answers_json_to_a_client_that_prefers_it(server: str, path: str) -> None:
    as_json = requests.get(server + path, headers=JSON, timeout=10)
    assert as_json.status_code == 200 and as_json.headers["Content-Type"].startswith("application/json")
    assert "Accept" in as_json.headers["Vary"]
    body = as_json.json()
    assert body["title"]
    by_parameter = requests.get(server + path, params={"format": "json"}, timeout=10).json()
    # The same answer, but for links, which keep format=json for the client that asked with it (issue 17).
    assert {k: v for k, v in by_parameter.items() if k != "links"} == {k: v for k, v in body.items() if k != "links"}
    for link in (by_parameter.get("links") or {}).values():
        assert link is None or "format=json" in link
    as_html = requests.get(server + path, headers={"Accept": "*/*"}, timeout=10)
    assert as_html.headers["Content-Type"].startswith("text/html")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert (
        requests.get(server + path, headers={"Accept": browser}, timeout=10)
        .headers["Content-Type"]
        .startswith("text/html")
    )


def test_html_and_json_show_the_same_communities(server: str) -> None:
    body = get(server, "/communities", JSON, theme="esol").json()
    text = get(server, "/communities", theme="esol").text
    for community in body["communities"]:
        assert f'href="{community["href"]}"' in text
    assert f"of {body['total']} communit" in text


# --- every page: HTML that parses, one h1, labels, no scripts ---------------------------------------------------


@pytest.mark.parametrize("path", SITE_PAGES)
def test_page_parses_with_one_h1_and_a_label_for_every_control(server: str, path: str) -> None:
    response = requests.get(server + path, headers=HTML, timeout=10)
    assert response.status_code == 200
    page = Page(response.text)
    assert not page.problems, page.problems
    assert page.h1 == 1
    ids = [control.get("id") for control in page.controls]
    assert all(ids) and len(ids) == len(set(ids)), ids
    assert set(ids) <= page.labelled, set(ids) - page.labelled
    assert page.scripts == 0


def test_data_is_escaped_on_every_page(tmp_path: Path, scratch_root: Path) -> None:
    """A contributed name with markup in it is shown as text on the home page, in lists and in search."""
    (scratch_root / "data" / "communities" / "injection-test.ttl").write_text(
        "@prefix cop: <https://w3id.org/copgraph/def/cop#> .\n"
        "@prefix dct: <http://purl.org/dc/terms/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f"<{thing('community', 'injection-test')}> a cop:CommunityOfPractice ;\n"
        "  rdfs:label \"<script>alert('name')</script> Network\" ;\n"
        '  skos:altLabel "<img src=x onerror=alert(1)>" ;\n'
        f"  cop:status <{thing('status', 'active')}> ;\n"
        f"  cop:governance <{thing('governance', 'independent-practitioners')}> ;\n"
        f"  dct:subject <{thing('theme', 'esol')}> ;\n"
        "  dct:source <https://example.org/injection-test> .\n"
    )
    config = Config.from_env(environ={}, root=scratch_root, store=tmp_path / "store")
    build(config)
    with running_server(scratch_root, config.store_dir, workers=1) as url:
        for path in ["/communities", "/communities?theme=esol", "/search?q=script", "/search?q=onerror", "/themes"]:
            text = requests.get(url + path, headers=HTML, timeout=10).text
            assert "<script" not in text and "<img" not in text, path
        assert (
            "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Network"
            in requests.get(url + "/search", params={"q": "script"}, timeout=10).text
        )
        listed = requests.get(url + "/communities", params={"theme": "esol"}, headers=JSON, timeout=10).json()
        assert "<script>alert('name')</script> Network" in {c["name"] for c in listed["communities"]}
