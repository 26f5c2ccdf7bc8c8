"""Contributions over HTTP: the "put yourself on the map" form, receipts, and the maintainers' review.

Each view computes one data dictionary and renders it as HTML or JSON by Accept (JSON bodies are answered in JSON).
Maintainers authenticate with the bearer token, or log in with the same secret for a signed session cookie; forms
sent with the cookie also carry a per-session CSRF token, checked before any work.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from rdflib import Graph

from copgraph.contributions import review
from copgraph.contributions.answers import FIELDS, LIMITS, MAX_ITEMS, ROLES, Answers, ContributionError, check_answers
from copgraph.contributions.duplicates import duplicates
from copgraph.contributions.known import Known, known_values
from copgraph.contributions.pending import contributed_triples, find_receipt, find_receipt_by_secret, receipts, submit
from copgraph.contributions.record import (
    community_graph,
    current_record,
    diff,
    field_errors,
    proposed_record,
    record_path,
    to_quads,
    turtle,
)
from copgraph.core.vocab import thing
from copgraph.store.generations import StoreMissing
from copgraph.web.http import sessions
from copgraph.web.http.auth import check_token, require_maintainer
from copgraph.web.http.context import config, dataset, result_cache, validator
from copgraph.web.http.errors import RequestError, error_response
from copgraph.web.http.negotiation import HTML, JSON, PAGE_OFFERS, negotiate
from copgraph.web.http.ratelimit import rate_limited
from copgraph.web.views.record_page import LABEL, Page, record_page

blueprint = Blueprint("contribute", __name__)
# How the form names each role an organisation can have (the JSON form and the record use the property names).
ROLE_LABELS = {
    "hostedBy": "Hosts it",
    "sponsoredBy": "Sponsors it",
    "fundedBy": "Funds it",
    "supportedBy": "Supports it in another way",
}


@blueprint.record_once
def setup(state: BlueprintSetupState) -> None:
    sessions.register(state.app)


def wants_json() -> bool:
    if request.method == "POST" and request.is_json:
        return True
    return negotiate(PAGE_OFFERS) is JSON


def page(template: str, status: int = 200, **data: object) -> Response:
    body = render_template(template, metadata=dataset().metadata, **data)
    return Response(body, status=status, mimetype=HTML.media_type)


# --- The form --------------------------------------------------------------------------------------------------------


def form_description(known: Known) -> dict:
    """The fields of a contribution and the values each may take (the JSON form of GET /contribute)."""
    return {
        "fields": {
            "name": {"required": True, "max_length": LIMITS["name"]},
            "description": {"max_length": LIMITS["description"]},
            "homepage": {"format": "http(s) URL", "max_length": LIMITS["homepage"]},
            "platforms": {
                "format": 'list of {"platform": slug, "account": handle or http(s) URL}',
                "allowed": known.platforms,
                "max_items": MAX_ITEMS,
            },
            "hashtags": {"format": "list of #tags", "max_items": MAX_ITEMS},
            "themes": {"required": True, "format": "list of slugs", "allowed": known.themes},
            "organisation": {"allowed": known.organisations},
            "role": {"allowed": list(ROLES)},
            "founded": {"format": "year, 1950-2100"},
            "status": {"allowed": known.statuses, "default": "unknown"},
            "governance": {"allowed": known.governance, "default": "unknown"},
            "source": {"required": True, "format": "http(s) URL of a public page supporting the facts"},
            "updates": {"allowed": known.communities, "format": "slug of the community this updates"},
        },
        "plain_text": (
            "Every value is plain text: HTML tags, control characters, text-direction controls and Unicode "
            "noncharacters are refused, and every field but description is one line. JSON values are strings "
            "(founded may be a number; platforms are objects), never other types."
        ),
    }


def raw_answers() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The request's answers as field -> list of strings, from a JSON object or a form (platform rows as
    "slug<TAB>account"), and the errors of JSON values of the wrong type (those fields are left out)."""
    if request.is_json:
        body = json_object()
        if body is None:
            return {}, {"form": ["Send a JSON object of the fields (GET /contribute with Accept JSON lists them)."]}
        return _from_json(body)
    form = request.form
    answers = {name: form.getlist(name) for name in FIELDS if name != "platforms"}
    rows = zip(form.getlist("platform"), form.getlist("account"), strict=False)
    answers["platforms"] = [f"{slug}\t{account}" for slug, account in rows]
    return answers, {}


def json_object() -> Mapping | None:
    """The request's JSON body if it is an object; None for anything else (not JSON, another JSON value, nesting
    deeper than the parser goes)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return None
    return body if isinstance(body, Mapping) else None


LIST_FIELDS = ("hashtags", "themes")  # a list of strings, or one string
PLATFORM_KEYS = ("platform", "account")


def _from_json(body: Mapping) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each field's text values; a value of another JSON type is a field error, never turned into text."""
    answers: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if name == "founded" and type(value) is int:  # a year may be sent as a number
            value = str(value)
        if name == "platforms":
            items = value if isinstance(value, list) else [value]
            if all(_platform_item(item) for item in items):
                answers[name] = [f"{item.get('platform') or ''}\t{item.get('account') or ''}" for item in items]
            else:
                errors[name] = [
                    'Give a list of objects {"platform": slug, "account": handle or http(s) URL}, each value text.'
                ]
        elif name in LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            if all(isinstance(item, str) for item in items):
                answers[name] = items
            else:
                errors[name] = [f'Give a list of text values, e.g. ["{"maths" if name == "themes" else "#UKFEchat"}"].']
        elif isinstance(value, str):
            answers[name] = [value]
        else:
            errors[name] = [f"Give text here, not {_json_type(value)}."]
    return answers, errors


def _platform_item(item: object) -> bool:
    return isinstance(item, Mapping) and all(isinstance(item.get(key), str | None) for key in PLATFORM_KEYS)


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


@blueprint.route("/contribute", methods=["GET"])
def contribute_form() -> Response:
    known = known_values(dataset())
    if wants_json():
        return jsonify(form_description(known))
    return page("contribute.html", known=known, roles=ROLES, role_labels=ROLE_LABELS, values={}, errors={})


@blueprint.route("/contribute", methods=["POST"])
@rate_limited("contribute")
def contribute() -> Response:
    """Check, validate and keep a contribution pending; answer its receipt (303/201) or the field errors (400)."""
    known = known_values(dataset())
    raw, wrong_types = raw_answers()
    if "form" in wrong_types:
        return _refused(wrong_types, known, {})
    try:
        answers = check_answers(raw, known)
    except ContributionError as error:
        return _refused(error.errors | wrong_types, known, raw)  # "must be text" rather than "is required"
    if wrong_types:
        return _refused(wrong_types, known, raw)
    try:
        graph = community_graph(answers, known)
        _validate(answers, graph)
    except ContributionError as error:
        return _refused(error.errors, known, raw)
    receipt, secret = submit(config(), answers, graph, duplicates(answers, known))
    location = url_for("contribute.receipt_page", secret=secret)
    if wants_json():
        response = jsonify(_receipt_data(receipt) | {"receipt": location})
        response.status_code = 201
        response.headers["Location"] = location
        return response
    return redirect(location, code=303)


def _validate(answers: Answers, graph: Graph) -> None:
    """SHACL in the context of the published data, on the record as approval would write it; ContributionError."""
    contributed = [q.triple for q in to_quads(graph)]
    current = current_record(dataset(), answers.slug)
    record = proposed_record(current, contributed, thing("community", answers.slug))
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in record]
    report = validator().validate_quads(quads, replacing=[record_path(config(), answers.slug)])
    if not report.conforms:
        raise ContributionError(field_errors(report))


def _refused(errors: dict[str, list[str]], known: Known, raw: dict[str, list[str]]) -> Response:
    if wants_json():
        response = jsonify({"errors": errors})
        response.status_code = 400
        return response
    values = {name: raw.get(name, []) for name in FIELDS}
    values["platform_rows"] = [row.partition("\t")[::2] for row in raw.get("platforms", [])]
    return page("contribute.html", 400, known=known, roles=ROLES, role_labels=ROLE_LABELS, values=values, errors=errors)


def _receipt_data(receipt: dict) -> dict:
    return receipt | {"turtle": turtle(contributed_triples(config(), receipt["id"]))}


def _found_receipt(secret: str) -> dict:
    receipt = find_receipt_by_secret(config(), secret)
    if receipt is None:
        raise RequestError(404, "There is no contribution at this address: check the receipt address you were given.")
    return receipt


@blueprint.route("/contribute/<secret>")
def receipt_page(secret: str) -> Response:
    """A contribution's receipt, for whoever holds its secret address (the contributor): in words for people (the
    RDF one link away), the receipt with its Turtle for JSON clients."""
    receipt = _found_receipt(secret)
    data = _receipt_data(receipt) | {"receipt": request.path}
    if wants_json():
        return jsonify(data)
    submitted = _in_words(contributed_triples(config(), receipt["id"]), receipt["community"])
    rdf = url_for("contribute.receipt_turtle", secret=secret)
    return page("contribution.html", receipt=data, submitted=submitted, rdf=rdf)


@blueprint.route("/contribute/<secret>/contribution.ttl")
def receipt_turtle(secret: str) -> Response:
    """The contribution as it was received, as Turtle, behind the same secret address."""
    receipt = _found_receipt(secret)
    return Response(turtle(contributed_triples(config(), receipt["id"])), mimetype="text/turtle")


def _in_words(triples: list[ox.Triple], community: str) -> Page:
    """The contributed record arranged as a record page is, its themes, platforms, organisations, statuses and
    governance named by their published labels (the contribution refers to them by IRI only)."""
    known = known_values(dataset())
    kinds = {
        "theme": known.themes,
        "platform": known.platforms,
        "organisation": known.organisations,
        "status": known.statuses,
        "governance": known.governance,
    }
    named = [
        ox.Triple(ox.NamedNode(thing(kind, slug)), ox.NamedNode(LABEL), ox.Literal(label))
        for kind, labels in kinds.items()
        for slug, label in labels.items()
        if label
    ]
    return record_page(triples + named, community)


# --- Maintainers ---------------------------------------------------------------------------------------------------


def maintainer_denied() -> Response | None:
    """None if the request is a maintainer's (bearer token, or the session cookie plus, on POST, its CSRF token)."""
    if "Authorization" in request.headers or not sessions.valid():
        denied = require_maintainer()
        if denied is not None and not wants_json() and denied.status_code == 401 and request.method == "GET":
            return page("maintain_login.html", 401, next=request.path, error="")
        return denied
    if request.method == "POST":
        given = request.form.get("csrf", "")
        if not hmac.compare_digest(given.encode(), session.get("csrf", "").encode()):
            return error_response(403, "The form's CSRF token is missing or stale: reload the page and try again.")
    return None


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@blueprint.route("/maintain/login", methods=["GET", "POST"])
@rate_limited("maintain-login")
def login() -> Response:
    target = request.values.get("next", "")
    target = target if target.startswith("/maintain/") else url_for("contribute.pending_list")
    if request.method == "GET":
        return page("maintain_login.html", next=target, error="")
    token = config().maintainer_token
    given = request.form.get("token", "")
    if not token or check_token(given, token) is not None:
        return page("maintain_login.html", 403, next=target, error="That is not this server's maintainer token.")
    sessions.start(given)
    return redirect(target, code=303)


@blueprint.route("/maintain/logout", methods=["POST"])
def logout() -> Response:
    sessions.end()
    return redirect(url_for("contribute.login"), code=303)


@blueprint.route("/maintain/contributions")
def pending_list() -> Response:
    denied = maintainer_denied()
    if denied is not None:
        return denied
    pending = receipts(config())
    if wants_json():
        return jsonify({"pending": pending})
    return page("maintain_list.html", pending=pending)


@blueprint.route("/maintain/contributions/<receipt_id>")
def review_page(receipt_id: str) -> Response:
    denied = maintainer_denied()
    if denied is not None:
        return denied
    receipt = find_receipt(config(), receipt_id)
    if receipt is None:
        raise RequestError(404, f"There is no contribution {receipt_id!r}.")
    contributed = contributed_triples(config(), receipt_id)
    current = current_record(dataset(), receipt["slug"])
    added, removed = diff(current, proposed_record(current, contributed, receipt["community"]))
    data = _receipt_data(receipt) | {
        "added": [str(t) for t in added],
        "removed": [str(t) for t in removed],
    }
    if wants_json():
        return jsonify(data)
    return page("maintain_item.html", receipt=data, csrf=csrf_token() if sessions.valid() else "")


@blueprint.route("/maintain/contributions/<receipt_id>/approve", methods=["POST"])
def approve(receipt_id: str) -> Response:
    denied = maintainer_denied()
    if denied is not None:
        return denied
    return _review(receipt_id, lambda: review.approve(config(), receipt_id, _reason(), validator=validator()))


@blueprint.route("/maintain/contributions/<receipt_id>/reject", methods=["POST"])
def reject(receipt_id: str) -> Response:
    denied = maintainer_denied()
    if denied is not None:
        return denied
    return _review(receipt_id, lambda: review.reject(config(), receipt_id, _reason()))


def _reason() -> str:
    body = json_object() if request.is_json else None
    reason = body.get("reason") if body is not None else request.form.get("reason")
    if reason is None:
        return ""
    if not isinstance(reason, str):  # raised inside the review, which answers it as the field's 400
        raise ContributionError({"reason": [f"Give the reason as text, not {_json_type(reason)}."]})
    return reason


def _review(receipt_id: str, operation: Callable[[], dict]) -> Response:
    """Run an approval or rejection; every failure answers an error with nothing written."""
    if find_receipt(config(), receipt_id) is None:
        raise RequestError(404, f"There is no contribution {receipt_id!r}.")
    try:
        receipt = operation()
    except ContributionError as error:
        if wants_json():
            response = jsonify({"errors": error.errors})
            response.status_code = 400
            return response
        raise RequestError(400, f"Nothing was written: {error}") from None
    except review.NotPending as error:
        raise RequestError(409, f"Nothing was written: {error}.") from None
    except StoreMissing as error:
        raise RequestError(503, str(error)) from None
    except OSError as error:  # a full disk, permissions: the receipt stays pending, so the review can be run again
        current_app.logger.error("review of %s failed: %s", receipt_id, error)
        raise RequestError(
            503, "The review could not be completed (see the server's log); it is still pending."
        ) from None
    result_cache().clear()
    if wants_json():
        return jsonify(receipt)
    return redirect(url_for("contribute.review_page", receipt_id=receipt_id), code=303)
