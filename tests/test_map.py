"""The network of networks (/map, /map/network.json) and the charts (/charts), through a real `copgraph serve`
process, plus the year rule and the chart geometry on their own."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import requests

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.model.charts import bar_chart, nice_maximum
from copgraph.model.network import Community
from copgraph.web.views.network import CYTOSCAPE_PACKAGE
from tests.conftest import REPO, running_server

ID = "https://w3id.org/copgraph/id/"
SVG = "{http://www.w3.org/2000/svg}"
PREFIXES = """PREFIX cop: <https://w3id.org/copgraph/def/cop#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
"""


@pytest.fixture(scope="module")
def network(server: str) -> dict:
    response = requests.get(server + "/map/network.json", timeout=10)
    assert response.status_code == 200
    return response.json()


def count(dataset, where: str) -> int:
    query = PREFIXES + f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ {where} }}"
    return int(next(iter(dataset.query(query)))["n"].value)


def community_rows(html: str) -> list[str]:
    """The community links in the rows of the communities table, in page order."""
    table = html.split('id="communities-heading"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row"><a href="(/id/community/[^"]+)">', table)


def from_json(node: dict) -> Community:
    return Community(node["id"], node["label"], "community", "", node["founded"], node["closed"], set(node["observed"]))


def community(founded: int | None = None, closed: int | None = None, observed: set[int] | None = None) -> Community:
    return Community(ID + "community/x", "X", "community", "/id/community/x", founded, closed, observed or set())


# The year rule


def test_a_community_is_on_the_map_from_its_founding_year_on() -> None:
    assert not community(founded=2015).on_map_in(2014)
    assert community(founded=2015).on_map_in(2015)
    assert community(founded=2015).on_map_in(2024)


def test_a_community_recorded_closed_leaves_the_map_after_that_year() -> None:
    closed = community(founded=2010, closed=2021)
    assert closed.on_map_in(2021)
    assert not closed.on_map_in(2022)


def test_an_observation_puts_a_community_on_the_map_in_its_year_only() -> None:
    observed = community(observed={2021})
    assert observed.on_map_in(2021)
    assert not observed.on_map_in(2020)
    assert not observed.on_map_in(2022)


def test_a_community_with_no_dates_is_on_no_year_map() -> None:
    assert not any(community().on_map_in(year) for year in range(1950, 2030))


# /map/network.json


def test_network_json_has_a_node_for_every_community(network: dict, dataset) -> None:
    communities = [n for n in network["nodes"] if n["kind"] == "community"]
    assert len(communities) == count(dataset, "?c a cop:CommunityOfPractice")


def test_network_nodes_have_labels_kinds_and_links_to_their_records(network: dict) -> None:
    kinds = {node["kind"] for node in network["nodes"]}
    assert kinds == {"community", "theme", "hashtag", "organisation", "platform"}
    for node in network["nodes"]:
        assert node["label"]
        assert node["links"]["local_href"] == "/" + node["id"].removeprefix("https://w3id.org/copgraph/")


def test_network_edges_join_nodes_that_exist(network: dict) -> None:
    ids = {node["id"] for node in network["nodes"]}
    assert network["edges"]
    for edge in network["edges"]:
        assert edge["source"] in ids and edge["target"] in ids
        assert edge["kind"] in {"theme", "hashtag", "organisation", "platform", "part-of"}


def test_network_edges_record_what_the_data_says(network: dict) -> None:
    edges = {(e["source"], e["kind"], e["target"]) for e in network["edges"]}
    ukfechat = ID + "community/ukfechat"
    assert (ukfechat, "theme", ID + "theme/pedagogy") in edges
    assert (ukfechat, "hashtag", ID + "hashtag/ukfechat") in edges
    assert (ukfechat, "platform", ID + "platform/twitter") in edges


def test_organisation_edges_are_labelled_with_the_role(network: dict) -> None:
    roles = {role for e in network["edges"] if e["kind"] == "organisation" for role in e["label"].split(", ")}
    assert "hosted by" in roles
    assert roles <= {"hosted by", "sponsored by", "funded by", "delivered by", "partnered with", "supported by"}


def test_network_json_states_its_filter_rules_and_years(network: dict) -> None:
    assert "founded in or before that year" in network["definitions"]["year"]
    assert network["audit_years"] == [2020, 2021, 2024]
    assert set(network["audit_years"]) <= set(network["years"])
    tes = next(n for n in network["nodes"] if n["id"] == ID + "community/tes-community-forums")
    assert tes["observed"] == [2021] and tes["closed"] == 2021


def test_network_json_is_cached_by_dataset_version(server: str, dataset) -> None:
    first = requests.get(server + "/map/network.json", timeout=10)
    assert dataset.version in first.headers["ETag"]
    again = requests.get(server + "/map/network.json", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


# /map


def test_map_page_works_without_javascript_as_a_table_of_communities(server: str, dataset) -> None:
    page = requests.get(server + "/map", timeout=10)
    assert page.status_code == 200
    rows = community_rows(page.text)
    assert len(rows) == count(dataset, "?c a cop:CommunityOfPractice")
    assert "/id/community/ukfechat" in rows
    assert 'href="/id/theme/pedagogy"' in page.text


def test_map_filters_are_labelled_and_explained(server: str) -> None:
    page = requests.get(server + "/map", timeout=10).text
    assert '<label for="theme">Theme</label>' in page and '<select id="theme" name="theme"' in page
    assert '<label for="year">Year</label>' in page and '<select id="year" name="year"' in page
    assert 'aria-describedby="year-rule"' in page
    assert "founded in or before that year" in page


def test_map_page_has_no_inline_script(server: str) -> None:
    page = requests.get(server + "/map", timeout=10).text
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page))
    assert " on" + "click=" not in page


def test_theme_filter_keeps_the_communities_with_that_theme(server: str, dataset) -> None:
    page = requests.get(server + "/map", params={"theme": "esol"}, timeout=10)
    assert page.status_code == 200
    rows = community_rows(page.text)
    assert 0 < len(rows) == count(dataset, f"?c dct:subject <{ID}theme/esol>")


def test_year_filter_follows_the_year_rule(server: str) -> None:
    rows = community_rows(requests.get(server + "/map", params={"year": "2021"}, timeout=10).text)
    assert "/id/community/ukfechat" in rows  # founded 2012
    assert "/id/community/tes-community-forums" in rows  # observed (closed) in the 2021 audit
    assert "/id/community/wales-colleges-ai-network" not in rows  # founded 2023


def test_year_filter_agrees_with_network_json(server: str, network: dict) -> None:
    for year in network["audit_years"]:
        rows = community_rows(requests.get(server + "/map", params={"year": str(year)}, timeout=10).text)
        nodes = [n for n in network["nodes"] if n["kind"] == "community"]
        on_map = {n["links"]["local_href"] for n in nodes if from_json(n).on_map_in(year)}
        assert set(rows) == on_map


@pytest.mark.parametrize("query", [{"theme": "no-such-theme"}, {"year": "last"}])
def test_a_filter_that_names_nothing_is_a_400_that_says_why(server: str, query: dict) -> None:
    response = requests.get(server + "/map", params=query, timeout=10)
    assert response.status_code == 400
    assert next(iter(query.values())) in response.text


def test_cytoscape_is_served_from_node_modules_and_nothing_else_is(server: str) -> None:
    if not (REPO / CYTOSCAPE_PACKAGE / "cytoscape.min.js").is_file():
        pytest.skip("Cytoscape.js is not installed: run `npm ci` (make test does)")
    response = requests.get(server + "/vendor/cytoscape/cytoscape.min.js", timeout=10)
    assert response.status_code == 200 and "javascript" in response.headers["Content-Type"]
    assert requests.get(server + "/vendor/cytoscape/package.json", timeout=10).status_code == 404
    assert requests.get(server + "/vendor/cytoscape/..%2Fpackage.json", timeout=10).status_code == 404
    assert '<script src="/vendor/cytoscape/cytoscape.min.js">' in requests.get(server + "/map", timeout=10).text


# /charts


def svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (which also proves it well-formed)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def bar_titles(chart: ET.Element) -> list[str]:
    """The tooltip of each bar: "category, series: value"."""
    return [title.text or "" for rect in chart.iter(SVG + "rect") if (title := rect.find(SVG + "title")) is not None]


def test_charts_are_accessible_inline_svg(server: str) -> None:
    page = requests.get(server + "/charts", timeout=10)
    assert page.status_code == 200
    charts = svgs(page.text)
    assert len(charts) == 2
    for chart in charts:
        assert chart.get("role") == "img"
        title, desc = chart.find(SVG + "title"), chart.find(SVG + "desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert chart.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        labels = [t.text for t in chart.iter(SVG + "text") if t.get("class") == "axis-label"]
        assert len(labels) == 2 and all(labels)


def test_audit_figures_chart_shows_the_published_figures(server: str) -> None:
    page = requests.get(server + "/charts", timeout=10).text
    figures = svgs(page)[0]
    bars = bar_titles(figures)
    assert "2020, Communities of practice in the audit: 100" in bars
    assert "2021, Communities of practice in the audit: 130" in bars
    assert "2021, Communities added since the previous audit: 36" in bars
    assert "no figures recorded" in ET.tostring(figures, encoding="unicode")  # the 2024 audit
    assert "https://www.fenews.co.uk/skills/amplifyfe-launch-sector-audit-report-for-2021/" in page


def test_platform_use_table_matches_the_chart_and_states_its_definition(server: str) -> None:
    page = requests.get(server + "/charts", timeout=10).text
    assert "on the map in that year" in page
    chart = svgs(page)[1]
    twitter = [bar for bar in bar_titles(chart) if bar.startswith("Twitter, ")]
    assert [bar.split(", ")[1].split(":")[0] for bar in twitter] == ["2020", "2021", "2024"]
    row = re.search(r'<a href="/id/platform/twitter">Twitter</a></th>(.*?)</tr>', page, flags=re.S)
    assert row is not None
    cells = re.findall(r'<td class="number">(\d+)</td>', row.group(1))
    assert cells[:3] == [bar.rsplit(": ", 1)[1] for bar in twitter]


# Chart geometry


def test_nice_maximum_splits_into_five_whole_ticks() -> None:
    for value in (1, 4, 6, 11, 36, 130, 2700):
        maximum = nice_maximum(value)
        assert maximum >= value and maximum % 5 == 0


def test_a_missing_value_draws_no_bar_and_bars_stay_in_the_plot() -> None:
    chart = bar_chart("t", "T", "D", ["2020", "2021"], ["a", "b"], {("2020", "a"): 3, ("2021", "b"): 7}, "Y", "N")
    assert [len(group.bars) for group in chart.groups] == [1, 1]
    for bar in (bar for group in chart.groups for bar in group.bars):
        assert chart.plot_left <= bar.x and bar.x + bar.width <= chart.plot_left + chart.plot_width
        assert chart.plot_top <= bar.y and bar.y + bar.height <= chart.plot_bottom


# Values from contributed data are text, never markup


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("hostile")
    for folder in ("ontology", "shapes", "data", "queries"):  # no node_modules: Cytoscape.js is not installed there
        shutil.copytree(REPO / folder, root / folder)
    ukfechat = root / "data" / "communities" / "ukfechat.ttl"
    hostile = ukfechat.read_text().replace('rdfs:label "#UKFEchat"', 'rdfs:label "<script>alert(1)</script>"')
    ukfechat.write_text(hostile)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    with running_server(root, config.store_dir, workers=1) as url:
        yield url


def test_a_contributed_name_with_markup_is_shown_as_text_on_the_map(hostile_server: str) -> None:
    page = requests.get(hostile_server + "/map", timeout=10).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    data = requests.get(hostile_server + "/map/network.json", timeout=10).json()
    assert any(node["label"] == "<script>alert(1)</script>" for node in data["nodes"])


def test_map_page_without_cytoscape_says_so_and_keeps_the_tables(hostile_server: str) -> None:
    page = requests.get(hostile_server + "/map", timeout=10).text
    assert "not installed on this server" in page
    assert "/vendor/cytoscape/" not in page
    assert len(community_rows(page)) > 0
