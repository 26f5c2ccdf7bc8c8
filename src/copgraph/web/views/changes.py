"""/changes?from=&to=: what changed between two audits, copgraph's counts beside the audits' published figures."""

from __future__ import annotations

from flask import Blueprint, Response, request

from copgraph.model.audit_changes import Comparison, audit_years, compare
from copgraph.web.http.context import config, dataset
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import local_href
from copgraph.web.views.browse import check_parameters, render

blueprint = Blueprint("changes", __name__)


@blueprint.route("/changes")
def changes() -> Response:
    """One comparison as HTML or JSON (format=json or Accept); without years, the latest pair of consecutive audits
    whose observations show a change (the latest pair if none does)."""
    check_parameters({"from", "to"})
    years = audit_years(dataset())
    given_from, given_to = request.args.get("from", ""), request.args.get("to", "")
    try:
        comparison = compare(dataset(), config().root, given_from, given_to) if given_from or given_to else None
    except ValueError as error:
        raise RequestError(400, f"{error}. Ask for /changes?from=2020&to=2021, for example.") from None
    comparison = comparison or _latest_with_changes(years)
    return render("changes.html", comparison.as_json(), years=years, href=local_href)


def _latest_with_changes(years: list[str]) -> Comparison:
    if len(years) < 2:
        raise RequestError(404, "copgraph holds fewer than two audits, so there is nothing to compare.")
    pairs = list(zip(years, years[1:], strict=False))[::-1]
    comparisons = (compare(dataset(), config().root, from_year, to_year) for from_year, to_year in pairs)
    latest = None
    for comparison in comparisons:
        latest = latest or comparison
        if any(comparison.counts.values()):
            return comparison
    return latest
