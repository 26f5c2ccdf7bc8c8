"""The query editor a person gets at GET /sparql: YASGUI (installed from the npm registry by `make serve`),
prefilled with copgraph's prefixes and the canned queries."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory

from copgraph.core.vocab import sparql_prefixes
from copgraph.model.canned import load_canned_queries
from copgraph.web.http.context import config, dataset

blueprint = Blueprint("editor", __name__)

YASGUI_PACKAGE = Path("node_modules") / "@zazuko" / "yasgui" / "build"
VENDOR_FILES = {"yasgui.min.js", "yasgui.min.css"}
STARTER = """SELECT ?community ?name WHERE {
  ?community a cop:CommunityOfPractice ;
             rdfs:label ?name .
}
ORDER BY ?name"""


def editor_page() -> Response:
    queries = [
        {"title": q.title, "description": q.description, "text": q.text}
        for q in load_canned_queries(config().root / "queries")
    ]
    installed = (config().root / YASGUI_PACKAGE / "yasgui.min.js").is_file()
    html = render_template(
        "editor.html",
        starter=sparql_prefixes() + "\n" + STARTER,
        queries=queries,
        yasgui_installed=installed,
        metadata=dataset().metadata,
    )
    return Response(html, mimetype="text/html")


@blueprint.route("/vendor/yasgui/<name>")
def yasgui_asset(name: str) -> Response:
    if name not in VENDOR_FILES:
        abort(404)
    response = send_from_directory(config().root / YASGUI_PACKAGE, name, max_age=86400)
    return response
