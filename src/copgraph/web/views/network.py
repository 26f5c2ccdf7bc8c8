"""The network of networks for people: /map (an interactive Cytoscape.js graph over a table that works without
JavaScript), /map/network.json (the graph as data), /charts (the audits' figures and platform use by audit year as
inline SVG) and the route that serves Cytoscape.js from node_modules.

The network and the charts are read models (copgraph.model.network, copgraph.model.charts); the network is kept in the
worker's cache of read models for the version served, and /charts takes the published figures from the site index.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_from_directory

from copgraph.model import charts
from copgraph.model.network import THEME_RULE, YEAR_RULE, Network, Node, build_network, slug_of
from copgraph.web.http.context import config, dataset, model_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import local_href
from copgraph.web.views.browse import site_index

blueprint = Blueprint("network", __name__)

CYTOSCAPE_PACKAGE = Path("node_modules") / "cytoscape" / "dist"
VENDOR_FILES = {"cytoscape.min.js"}


def current_network() -> Network:
    """The network of the version served, built once per version (a build or a write makes a new one)."""
    current = dataset()
    return model_cache().get_or_make(current.version, "network", lambda: build_network(current, local_href))


def read_filters(network: Network) -> tuple[Node | None, int | None]:
    """The theme (by slug) and year a request asks for; RequestError 400 with words a person can act on."""
    theme_slug = request.args.get("theme", "").strip()
    year_text = request.args.get("year", "").strip()
    theme = network.theme_by_slug(theme_slug) if theme_slug else None
    if theme_slug and theme is None:
        raise RequestError(400, f"No community has the theme {theme_slug!r}. Choose a theme from the list on /map.")
    if year_text and not (year_text.isdigit() and len(year_text) == 4):
        raise RequestError(400, f"The year must be four digits, such as 2021, not {year_text!r}.")
    return theme, int(year_text) if year_text else None


def cytoscape_installed() -> bool:
    return (config().root / CYTOSCAPE_PACKAGE / "cytoscape.min.js").is_file()


@blueprint.route("/map")
def map_page() -> Response:
    network = current_network()
    theme, year = read_filters(network)
    communities = network.selected(theme.iri if theme else None, year)
    html = render_template(
        "map.html",
        network=network,
        communities=communities,
        connections=network.connections(communities),
        shared=network.shared(communities),
        themes=network.themes(),
        theme=theme,
        year=year,
        slug_of=slug_of,
        year_rule=YEAR_RULE,
        theme_rule=THEME_RULE,
        cytoscape_installed=cytoscape_installed(),
        metadata=dataset().metadata,
    )
    return Response(html, mimetype="text/html")


@blueprint.route("/map/network.json")
def network_json() -> Response:
    network = current_network()
    response = jsonify(network.as_json())
    response.headers["Cache-Control"] = config().cache_control
    response.set_etag(f"network-{network.version}")
    return response.make_conditional(request)


@blueprint.route("/charts")
def charts_page() -> Response:
    network = current_network()
    current = dataset()
    figures = sorted(site_index().figures, key=lambda figure: (figure.year, figure.measure))
    platform_use = charts.platform_use(network)
    html = render_template(
        "charts.html",
        figures=figures,
        figure_chart=charts.figure_chart(figures, network.audits),
        audits_without_figures=[a for a in network.audits if not any(f.audit == a.iri for f in figures)],
        platform_use=platform_use,
        platform_chart=charts.platform_chart(platform_use),
        year_rule=YEAR_RULE,
        metadata=current.metadata,
    )
    return Response(html, mimetype="text/html")


@blueprint.route("/vendor/cytoscape/<name>")
def cytoscape_asset(name: str) -> Response:
    if name not in VENDOR_FILES:
        abort(404)
    return send_from_directory(config().root / CYTOSCAPE_PACKAGE, name, max_age=86400)
