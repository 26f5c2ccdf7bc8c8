"""Pages for people: the home page says what copgraph is, with live counts and example queries."""

from __future__ import annotations

from flask import Blueprint, render_template

from copgraph.canned import load_canned_queries
from copgraph.stats import dataset_counts
from copgraph.web.store_access import config, dataset

blueprint = Blueprint("pages", __name__)


@blueprint.route("/")
def home() -> str:
    current = dataset()
    examples = [
        {
            "title": q.title,
            "description": q.description,
            "href": f"/queries/{q.name}",
        }
        for q in load_canned_queries(config().root / "queries")
    ]
    return render_template("home.html", counts=dataset_counts(current), metadata=current.metadata, examples=examples)
