"""/changes?from=&to=: what changed between two audits, copgraph's counts beside the audits' published figures."""

from __future__ import annotations

from flask import Blueprint, Response, request

from copgraph.model.audit_changes import audit_years, compare
from copgraph.web.http.context import config, dataset
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import local_href
from copgraph.web.views.browse import check_parameters, render

blueprint = Blueprint("changes", __name__)


@blueprint.route("/changes")
def changes() -> Response:
    """One comparison as HTML or JSON (format=json or Accept); without years, the latest two audits."""
    check_parameters({"from", "to"})
    from_year, to_year = _years()
    try:
        comparison = compare(dataset(), config().root, from_year, to_year)
    except ValueError as error:
        raise RequestError(400, f"{error}. Ask for /changes?from=2020&to=2021, for example.") from None
    return render("changes.html", comparison.as_json(), years=audit_years(dataset()), href=local_href)


def _years() -> tuple[str, str]:
    given_from, given_to = request.args.get("from", ""), request.args.get("to", "")
    if given_from or given_to:
        return given_from, given_to
    years = audit_years(dataset())
    if len(years) < 2:
        raise RequestError(404, "copgraph holds fewer than two audits, so there is nothing to compare.")
    return years[-2], years[-1]
