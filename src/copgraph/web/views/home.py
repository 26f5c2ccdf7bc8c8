"""Pages for people: the home page says what copgraph is, with live counts, the audits' published figures, a
search box and the ways into the data."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, url_for

from copgraph.core.vocab import thing
from copgraph.model.canned import load_canned_queries
from copgraph.model.stats import dataset_counts
from copgraph.web.http.context import config, dataset
from copgraph.web.http.links import local_href
from copgraph.web.views.browse import site_index

blueprint = Blueprint("pages", __name__)

# Where each count on the home page leads; "Triples" has no browse page and links the dataset description.
COUNT_LINKS = {
    "Communities": "/communities",
    "Platforms": "/platforms",
    "Themes": "/themes",
    "Organisations": "/organisations",
    "Hashtags": "/hashtags",
    "Audits": "/audits",
    "Triples": "/dataset",
}
AMPLIFYFE = thing("community", "amplifyfe")


@blueprint.route("/")
def home() -> str:
    current = dataset()
    index = site_index()
    counts = [
        {"label": label, "value": value, "href": COUNT_LINKS.get(label)} for label, value in dataset_counts(current)
    ]
    figures = [
        figure.as_json()
        | {"source_links": [{"href": url, "host": urlsplit(url).hostname or url} for url in figure.sources]}
        for figure in index.figures
    ]
    amplifyfe = index.community(AMPLIFYFE)
    examples = [
        {"title": q.title, "description": q.description, "href": f"/queries/{q.name}"}
        for q in load_canned_queries(config().root / "queries")
    ]
    return render_template(
        "home.html",
        counts=counts,
        figures=figures,
        amplifyfe={"name": amplifyfe.name, "href": local_href(amplifyfe.iri)} if amplifyfe else None,
        metadata=current.metadata,
        examples=examples,
    )


@blueprint.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico when a page (a JSON answer, an error) names no icon: the site's SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
