"""/validate: the SHACL report of a contribution, checked in the context of the published data.

A request body (Turtle, TriG, JSON-LD, N-Triples, N-Quads or RDF/XML by Content-Type) or an HTML form (a file upload
or pasted text) is parsed like `copgraph validate` parses files and validated against the shapes together with the
ontology and all of data/, so that it may refer to existing platforms, themes and organisations and so that a
duplicate handle is caught. Nothing is written. The answer is JSON (the default), Turtle (`sh:ValidationReport`) or an
HTML page, by Accept; 200 whether or not the contribution conforms (the report says which).

The worker only checks the body's shape (its nesting: core.rdf_io.untrusted_input_problem); parsing and validation
run in the worker's input process (build.inputs) under COPGRAPH_INPUT_TIMEOUT and COPGRAPH_INPUT_MEMORY_MB, with at
most COPGRAPH_MAX_VALIDATION_TRIPLES triples and COPGRAPH_MAX_LIST_ITEMS list items. The POST route is rate limited
per client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, make_response, render_template, request
from rdflib import Graph
from rdflib.namespace import RDF, RDFS, SH
from werkzeug.datastructures import FileStorage

from copgraph.build.inputs import InputError
from copgraph.build.shacl import Report, load_shapes
from copgraph.core.rdf_io import FORMATS, untrusted_input_problem
from copgraph.web.http.context import config, dataset, inputs, model_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.negotiation import HTML, JSON, REPORT_OFFERS, negotiate, offered, vary
from copgraph.web.http.ratelimit import rate_limited

blueprint = Blueprint("validation", __name__)

# The formats `copgraph validate` reads, by the media types a client may send them as.
INPUT_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
# The choices of the form's format menu for pasted text: (media type, label).
TEXT_FORMATS = [
    ("text/turtle", "Turtle"),
    ("application/ld+json", "JSON-LD"),
    ("application/n-triples", "N-Triples"),
    ("application/rdf+xml", "RDF/XML"),
    ("application/trig", "TriG"),
    ("application/n-quads", "N-Quads"),
]
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Contribution:
    data: bytes  # checked for its shape, not yet parsed
    rdf_format: ox.RdfFormat
    what: str  # how messages name it: the file's name, "the text", "the request body"
    text: str = ""  # what was pasted into the form, to show it again beside its report; "" otherwise
    text_format: str = ""


@blueprint.route("/validate", methods=["GET"])
def form() -> Response:
    """The page for people: what is checked, an upload control and a text box."""
    return _page(200)


@blueprint.route("/validate", methods=["POST"])
@rate_limited("validate")
def validate() -> Response:
    """Validate the request's RDF and answer its report in the negotiated format; nothing is written."""
    chosen = negotiate(REPORT_OFFERS)
    if chosen is None:
        raise RequestError(406, f"None of the requested media types is offered. Offered: {offered(REPORT_OFFERS)}.")
    # The text box may hold as much as the request limit allows (Flask's default for form fields is lower).
    request.max_form_memory_size = config().max_request_bytes
    try:
        contribution = _read_contribution()
        report, turtle = _validated(contribution, turtle=chosen not in (JSON, HTML))
    except (RequestError, InputError) as error:
        if chosen is not HTML:
            raise
        return vary(_page(error.status, error=str(error), **_form_values()))  # the form again, with the problem
    if chosen is JSON:
        response = Response(report.to_json(), mimetype=JSON.media_type)
    elif chosen is HTML:
        response = _page(200, report=report_view(report), text=contribution.text, text_format=contribution.text_format)
    else:
        response = Response(turtle, mimetype=chosen.media_type)
    return vary(response)


def _read_contribution() -> Contribution:
    """The RDF to validate: an uploaded `file`, else the form's `text` in its `format`, else the request body."""
    if request.mimetype in FORM_TYPES:
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            return _checked(upload.read(), _upload_format(upload), upload.filename)
        text, text_format = _form_values()["text"], _form_values()["text_format"]
        if text.strip():
            rdf_format = INPUT_TYPES.get(text_format)
            if rdf_format is None:
                raise RequestError(415, f"Unknown format {text_format!r} for the text. Choose one of: {_offered()}.")
            return _checked(text.encode("utf-8"), rdf_format, "the text", text, text_format)
        if request.mimetype == "application/x-www-form-urlencoded" and "text" not in request.form:
            # What `curl --data-binary @file.ttl` sends when no Content-Type is given.
            raise RequestError(
                415, f"Send the RDF with its Content-Type (one of: {_offered()}), or use the form's fields."
            )
        raise RequestError(400, "Nothing to validate: choose a file to upload or paste RDF into the text box.")
    rdf_format = INPUT_TYPES.get(request.mimetype)
    if rdf_format is None:
        given = f"of type {request.mimetype!r}" if request.mimetype else "with no Content-Type (none was sent)"
        raise RequestError(415, f"Cannot validate a body {given}. Send RDF as one of: {_offered()}.")
    return _checked(request.get_data(), rdf_format, "the request body")


def _form_values() -> dict[str, str]:
    return {"text": request.form.get("text", ""), "text_format": request.form.get("format", "text/turtle")}


def _upload_format(upload: FileStorage) -> ox.RdfFormat:
    """The uploaded part's format by its declared type, else by its file extension (browsers often declare
    application/octet-stream for .ttl files)."""
    if upload.mimetype in INPUT_TYPES:
        return INPUT_TYPES[upload.mimetype]
    name = upload.filename or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix in FORMATS:
        return FORMATS[suffix]
    extensions = ", ".join(sorted(FORMATS))
    raise RequestError(
        415, f"Cannot tell the format of {name!r} (type {upload.mimetype or '(none)'!r}): name it {extensions}."
    )


def _checked(data: bytes, rdf_format: ox.RdfFormat, what: str, text: str = "", text_format: str = "") -> Contribution:
    """The input, if its shape may be parsed: RequestError 400 if it is empty or nested too deep, or RDF/XML with
    entity declarations."""
    if not data.strip():
        raise RequestError(400, f"Nothing to validate: {what} is empty.")
    problem = untrusted_input_problem(data, rdf_format, config().max_nesting)
    if problem:
        raise RequestError(400, f"Cannot accept {what}: {problem}")
    return Contribution(data, rdf_format, what, text, text_format)


def _validated(contribution: Contribution, turtle: bool) -> tuple[Report, bytes]:
    """Parsed with Oxigraph as `copgraph validate` does (blank nodes renamed apart from the published data's, JSON-LD
    remote contexts never fetched) and validated, both in the input process; the report, and its Turtle if asked.
    InputError if it is too large or runs out of its budget."""
    what, rdf_format = contribution.what, contribution.rdf_format
    try:
        return inputs().validate(contribution.data, rdf_format, dataset().version, turtle=turtle)
    except SyntaxError as error:
        if "LoadDocumentCallback" in (error.msg or ""):
            raise RequestError(
                400, f"Cannot parse {what}: remote JSON-LD contexts are not fetched; put the context inline."
            ) from None
        where = f" (line {error.lineno}, column {error.offset})" if error.lineno is not None else ""
        raise RequestError(400, f"Cannot parse {what} as {rdf_format.name}: {error.msg}{where}.") from None
    except ValueError as error:
        raise RequestError(400, f"Cannot parse {what} as {rdf_format.name}: {error}.") from None


def _offered() -> str:
    return ", ".join(INPUT_TYPES)


def report_view(report: Report) -> dict[str, Any]:
    """The report arranged for the HTML page: results grouped by focus node, severities by their short name."""
    groups = [
        {
            "focus_node": focus,
            "results": [
                {
                    "message": r.message,
                    "path": r.path,
                    "value": r.value,
                    "severity": r.severity.rsplit("#", 1)[-1],
                    "shape": r.source_shape,
                }
                for r in results
            ],
        }
        for focus, results in report.by_focus_node().items()
    ]
    return {"conforms": report.conforms, "count": len(report.results), "groups": groups}


def checks(shapes: Graph) -> list[dict[str, Any]]:
    """What is checked, from the shapes themselves: each labelled node shape and how many constraints it holds."""
    found = []
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        label = shapes.value(shape, RDFS.label)
        if label is None:
            continue
        count = len(list(shapes.objects(shape, SH.property))) + len(list(shapes.objects(shape, SH.sparql)))
        found.append({"label": str(label), "constraints": count, "iri": str(shape)})
    return sorted(found, key=lambda item: item["label"].lower())


def _page(status: int, **values: Any) -> Response:
    root = config().root
    values.setdefault("text", "")
    values.setdefault("text_format", "text/turtle")
    body = render_template(
        "validate.html",
        checks=model_cache().get_or_make(dataset().version, "validation checks", lambda: checks(load_shapes(root))),
        text_formats=TEXT_FORMATS,
        extensions=sorted(FORMATS),
        limit=config().max_request_bytes,
        per_minute=config().rate_limit_per_minute,
        metadata=dataset().metadata,
        **values,
    )
    return make_response(body, status)
