"""Request mixes: deterministic lists of requests that mean the same on every target.

A mix is a list of operations (`Op`); `render(op, kind)` writes one as the HTTP request a target of that kind
understands:

| operation | copgraph | Oxigraph server | rdflib-endpoint |
|---|---|---|---|
| query (POST) | `POST /sparql`, `application/sparql-query` | `POST /query`, same | `POST /sparql`, same |
| query (GET) | `GET /sparql?query=` | `GET /query?query=` | `GET /sparql?query=` |
| record of an IRI | `GET /doc/{kind}/{slug}` | `DESCRIBE <iri>` (or copgraph's record CONSTRUCT) | same as Oxigraph |

Mixes (`build_mixes`):

- engine: the canned queries of queries/*.rq (all their parameters are optional, so they run unbound), POST, JSON;
- light: `SELECT ?l { <iri> rdfs:label ?l }` and `DESCRIBE <iri>` over the sample IRIs of every kind, GET;
- record: a community's record as Turtle and as JSON-LD (Oxigraph 0.5's server writes JSON-LD, expanded);
- record-graph: the same, a SPARQL store asked for copgraph's own record query instead of DESCRIBE (the same graph);
- repeated: communities-per-platform, again and again (answered from copgraph's result cache when it is on);
- realistic: a Zipf (s = 1.1) sequence over the canned queries and record fetches, popular things first, from a seed.

The same seed and samples always give the same lists.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
QUERIES_DIR = REPO / "queries"
ID_BASE = "https://w3id.org/copgraph/id/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
JSONLD = "application/ld+json"
KINDS = ("community", "platform", "theme", "organisation", "hashtag", "audit", "presence")
REPEATED_QUERY = "communities-per-platform"


@dataclass(frozen=True)
class Op:
    """One thing a client asks for, independent of the server."""

    kind: str  # "query" (POST), "get" (GET with the query in the URL) or "record"
    label: str  # names the request in reports, e.g. "canned:communities-per-platform", "record:ttl"
    query: str = ""
    accept: str = JSON
    iri: str = ""
    form: str = "select"  # "select" or "graph": what the answer is (validation counts rows of a select)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    label: str
    form: str = "select"
    op_id: str = ""  # the same for the same operation on every target: answers are compared by it


@dataclass
class Mix:
    name: str
    description: str
    server: str  # "uncached" or "cached": which copgraph server it is measured against
    ops: list[Op]
    notes: list[str] = field(default_factory=list)
    record_equivalent: str | None = None  # what a SPARQL store is asked for a record; None: the run's setting

    def requests(self, target_kind: str, record_equivalent: str = "describe") -> list[Request]:
        equivalent = self.record_equivalent or record_equivalent
        return [render(op, target_kind, equivalent) for op in self.ops]

    def summary(self) -> dict:
        labels: dict[str, int] = {}
        for op in self.ops:
            key = op.label.split(":")[0] if op.label.startswith("record") else op.label
            labels[key] = labels.get(key, 0) + 1
        return {
            "description": self.description,
            "server": self.server,
            "length": len(self.ops),
            "unique": len(set(self.ops)),
            "labels": labels,
            "notes": self.notes,
        }


# --- Rendering -----------------------------------------------------------------------------------------------------

SPARQL_PATH = {"copgraph": "/sparql", "oxigraph": "/query", "rdflib": "/sparql"}


def render(op: Op, target_kind: str, record_equivalent: str = "describe") -> Request:
    path = SPARQL_PATH[target_kind]
    op_id = hashlib.sha1(repr(op).encode("utf-8")).hexdigest()[:16]
    if op.kind == "record":
        if target_kind == "copgraph":
            return Request("GET", doc_path(op.iri), {"Accept": op.accept}, None, op.label, "graph", op_id)
        query = record_query(op.iri, record_equivalent)
        url = f"{path}?query={quote(query, safe='')}"
        return Request("GET", url, {"Accept": op.accept}, None, op.label, "graph", op_id)
    if op.kind == "get":
        url = f"{path}?query={quote(op.query, safe='')}"
        return Request("GET", url, {"Accept": op.accept}, None, op.label, op.form, op_id)
    headers = {"Accept": op.accept, "Content-Type": "application/sparql-query"}
    return Request("POST", path, headers, op.query.encode("utf-8"), op.label, op.form, op_id)


def doc_path(iri: str) -> str:
    if not iri.startswith(ID_BASE):
        raise ValueError(f"not a copgraph thing IRI: {iri}")
    return "/doc/" + iri[len(ID_BASE) :]


def record_query(iri: str, equivalent: str = "describe") -> str:
    """What a plain SPARQL store is asked for a record: `DESCRIBE <iri>` (the default; Oxigraph answers with the
    thing's own statements), or "construct": copgraph's own record query (the thing, its parts and the labels of
    what they link to), so both servers return the same graph."""
    if equivalent == "construct":
        from copgraph.model.record_graph import RECORD_QUERY

        return RECORD_QUERY.replace("?this", f"<{iri}>")
    return f"DESCRIBE <{iri}>"


# --- Inputs --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Canned:
    name: str
    text: str


def canned_queries(queries_dir: Path = QUERIES_DIR) -> list[Canned]:
    """Every canned query, run with no parameter bound (all of copgraph's canned parameters are optional)."""
    from copgraph.model.canned import load_canned_queries

    found = []
    for query in load_canned_queries(queries_dir):
        if any(param.required for param in query.params):
            continue  # none today; a required parameter would need a value per size
        found.append(Canned(query.name, query.text))
    return found


def samples_from_manifest(manifest: dict) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    samples = {kind: list(manifest.get("samples", {}).get(kind, [])) for kind in KINDS}
    popular = {kind: list(values) for kind, values in manifest.get("popular", {}).items()}
    return samples, popular


def samples_from_store(oxigraph_dir: Path, per_kind: int = 200) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Sample IRIs of every kind and the most used platforms and themes, read from a built store (for a root without
    a generator's manifest, e.g. the repository's own data)."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(oxigraph_dir))
    samples = {}
    for kind in KINDS:
        prefix = ID_BASE + kind + "/"
        rows = store.query(
            f'SELECT DISTINCT ?s WHERE {{ ?s <{RDFS_LABEL}> ?l FILTER(STRSTARTS(STR(?s), "{prefix}")) }} ORDER BY ?s',
            use_default_graph_as_union=True,
        )
        samples[kind] = [row["s"].value for row in rows][:per_kind]
    cop = "https://w3id.org/copgraph/def/cop#"
    popular_queries = {
        "platform": f"SELECT ?x (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c <{cop}hasPresence>/<{cop}onPlatform> ?x }}"
        " GROUP BY ?x ORDER BY DESC(?n) ?x LIMIT 5",
        "theme": "SELECT ?x (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c <http://purl.org/dc/terms/subject> ?x "
        f'FILTER(STRSTARTS(STR(?x), "{ID_BASE}theme/")) }} GROUP BY ?x ORDER BY DESC(?n) ?x LIMIT 5',
    }
    popular = {
        kind: [row["x"].value for row in store.query(query, use_default_graph_as_union=True)]
        for kind, query in popular_queries.items()
    }
    del store
    return samples, popular


# --- Mixes ---------------------------------------------------------------------------------------------------------


def label_op(iri: str) -> Op:
    return Op("get", "light:label", f"SELECT ?l WHERE {{ <{iri}> <{RDFS_LABEL}> ?l }}", JSON)


def describe_op(iri: str) -> Op:
    return Op("get", "light:describe", f"DESCRIBE <{iri}>", TURTLE, form="graph")


def record_op(iri: str, accept: str) -> Op:
    return Op("record", f"record:{'ttl' if accept == TURTLE else 'jsonld'}", accept=accept, iri=iri)


def canned_op(query: Canned) -> Op:
    return Op("query", f"canned:{query.name}", query.text, JSON)


def _interleave(groups: list[list[str]]) -> list[str]:
    """Round-robin over several lists, so every kind appears early in the list."""
    out, longest = [], max((len(g) for g in groups), default=0)
    for i in range(longest):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def zipf_sequence(items: list, length: int, s: float, rng: random.Random) -> list:
    """`length` draws from `items`, the item of rank r (1-based) weighted 1/r^s."""
    weights = [1.0 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights, k=length)


def build_mixes(
    canned: list[Canned],
    samples: dict[str, list[str]],
    popular: dict[str, list[str]],
    *,
    seed: int = 42,
    light_iris: int = 300,
    record_iris: int = 200,
    realistic_length: int = 3000,
    zipf_s: float = 1.1,
    excluded: dict[str, str] | None = None,
) -> dict[str, Mix]:
    """The six mixes. `excluded` maps canned query names to why they are left out at this size (too slow to put
    under load); they still get their sequential latency measured elsewhere."""
    excluded = excluded or {}
    rng = random.Random(seed)
    usable = [q for q in canned if q.name not in excluded]
    notes = [f"left out {name}: {why}" for name, why in sorted(excluded.items())]

    engine = Mix(
        "engine",
        "every canned aggregate/join query (queries/*.rq, unbound), POST, SPARQL JSON results",
        "uncached",
        [canned_op(q) for q in usable],
        list(notes),
    )

    iris = _interleave([samples.get(kind, []) for kind in KINDS])[:light_iris]
    light_ops = []
    for iri in iris:
        light_ops.extend((label_op(iri), describe_op(iri)))
    light = Mix(
        "light",
        "one resource's rdfs:label (SELECT, JSON) and DESCRIBE (Turtle) over sample IRIs of every kind, GET",
        "uncached",
        light_ops,
    )

    communities = samples.get("community", [])[:record_iris]
    record_ops = []
    for iri in communities:
        record_ops.extend((record_op(iri, TURTLE), record_op(iri, JSONLD)))
    record = Mix(
        "record",
        "a community's record: copgraph GET /doc/community/<slug> as Turtle and as JSON-LD; a SPARQL store the "
        "equivalent DESCRIBE with the same Accept",
        "uncached",
        record_ops,
    )
    # The same fetches, a SPARQL store asked for copgraph's own record query: both servers return the same graph.
    record_graph = Mix(
        "record-graph",
        "the record mix, a SPARQL store asked for copgraph's record CONSTRUCT (the same graph as copgraph's record) "
        "with the same Accept",
        "uncached",
        record_ops,
        record_equivalent="construct",
    )

    by_name = {q.name: q for q in canned}
    repeated_ops = [canned_op(by_name[REPEATED_QUERY])] if REPEATED_QUERY in by_name else []
    repeated = Mix("repeated", f"{REPEATED_QUERY} again and again, POST, JSON", "cached", repeated_ops)

    # Realistic: popular platforms' and themes' records first, then the canned queries and the communities' records
    # in a seeded order; draws weighted by Zipf over that ranking, so the popular ones repeat.
    head = [record_op(iri, TURTLE) for iri in _interleave([popular.get("platform", []), popular.get("theme", [])])]
    rest = [canned_op(q) for q in usable]
    rest += [record_op(iri, TURTLE if i % 2 == 0 else JSONLD) for i, iri in enumerate(communities)]
    rng.shuffle(rest)
    ranking = head + rest
    sequence = zipf_sequence(ranking, realistic_length, zipf_s, rng) if ranking else []
    realistic = Mix(
        "realistic",
        f"Zipf (s={zipf_s}) over {len(ranking)} canned queries and record fetches ({len(head)} popular records "
        f"ranked first), {realistic_length} requests from seed {seed}",
        "cached",
        sequence,
        list(notes),
    )
    return {mix.name: mix for mix in (engine, light, record, record_graph, repeated, realistic)}


def exclusion_reasons(query: str, entry: dict, max_seconds: float, earlier: dict[str, str] | None) -> list[str]:
    """Why one canned query stays out of the load mixes (none: it goes in). A query failing on copgraph or Oxigraph
    is always out. Then either the time cut (its sequential median over max_seconds on either), or, given an earlier
    run's exclusions at this size (--mixes-like), exactly those: the mix does not change with the host's speed."""
    reasons = []
    for name in ("copgraph", "oxigraph"):
        got = entry.get(name, {})
        if "median_s" not in got:
            why = got.get("skipped") or f"{got.get('status')}: {str(got.get('error'))[:120]}"
            reasons.append(f"fails on {name} ({why})")
        elif earlier is None and got["median_s"] > max_seconds:
            reasons.append(f"{got['median_s']:.2f} s on {name} (over {max_seconds} s)")
    if earlier is not None and not reasons and query in earlier:
        reasons.append(f"left out by the earlier run (--mixes-like): {earlier[query]}")
    return reasons


def earlier_exclusions(path: Path | None) -> dict[str, dict[str, str]]:
    """Size label -> {canned query name: why it was left out} from an earlier results JSON (empty without one)."""
    if path is None:
        return {}
    results = json.loads(Path(path).read_text(encoding="utf-8"))
    return {entry["size"]: entry["excluded_queries"] for entry in results["sizes"] if "excluded_queries" in entry}
