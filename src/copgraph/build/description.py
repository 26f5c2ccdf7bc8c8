"""The dataset's VoID + DCAT description (served at /dataset and /.well-known/void), computed from the store itself.

The DCAT part follows DCAT-AP 3.0.0, the profile European data portals harvest with (tests/test_dataset.py validates
/dataset with its SHACL shapes, ../shared/reference/dcat-ap-3.0.0): every value whose class the profile checks is
typed in the description itself (the licence a dct:LicenseDocument, a media type a dct:MediaType...), the pages the
records cite are prov:wasDerivedFrom (DCAT-AP reads dct:source as "another dcat:Dataset"), and theme, place and
language come from the EU's authority tables.

`publish` is what `copgraph build` and every maintainer write call on a new store generation, before it is swapped in:
it writes the dumps, adds to the /graph/dataset graph the statistics, sources, vocabularies and one DCAT distribution
per dump, and writes the ontology's HTML documentation. So the description always describes the very generation it
is in, and nothing about it is computed per request.

Statistics cover exactly what the dumps hold (see `copgraph.build.dumps`): every graph but the description itself and
pending contributions. Triple counts count statements graph by graph, as the N-Quads dump has lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from copgraph.build.dumps import Dump, published_graphs, write_dumps
from copgraph.build.statistics import (
    LINK_TARGETS,
    SAME_AS,
    Statistics,
    compute_statistics,
)
from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import GRAPH, PREFIXES
from copgraph.store.generations import Metadata
from copgraph.store.writes import write

DATASET_IRI = str(GRAPH).removesuffix("graph/") + "dataset"  # the subject store._dataset_quads describes

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SPDX = "http://spdx.org/rdf/terms#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
VOID = "http://rdfs.org/ns/void#"
IANA = "https://www.iana.org/assignments/media-types/"
EU = "http://publications.europa.eu/resource/authority/"  # the EU Publications Office's authority tables
TAR = EU + "file-type/TAR"
# The EU file type of each dump's content (dct:format), by its media type.
FILE_TYPES = {
    "application/n-quads": EU + "file-type/RDF_N_QUADS",
    "application/trig": EU + "file-type/RDF_TRIG",
    "application/ld+json": EU + "file-type/JSON_LD",
    "text/turtle": EU + "file-type/RDF_TURTLE",
}
THEME = (EU + "data-theme/EDUC", "Education, culture and sport")  # dcat:theme, from DCAT-AP's data-theme table
SPATIAL = (EU + "country/GBR", "United Kingdom")  # dct:spatial: UK further education and skills
LANGUAGE = (EU + "language/ENG", "English")
LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"
LICENCE_LABEL = "Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)"
# The day the first store was built from the facts (as the ontology's dct:created): dct:issued, which never changes.
ISSUED = "2026-11-23"
# Prefixes for the description's serialisations: copgraph's own and the ones only the description uses.
DESCRIPTION_PREFIXES = PREFIXES | {"spdx": SPDX, "dcat": DCAT, "vcard": VCARD}

TITLE = "copgraph: communities of practice in UK further education and skills"
DESCRIPTION = (
    "A linked-open-data knowledge graph of the online communities of practice of the UK further-education, "
    "vocational and skills sector (weekly chats, mailing lists, Teams and Zoom groups, LinkedIn groups, subject "
    "networks), the platforms, hashtags and themes they use, the organisations that host, sponsor and fund them, and "
    "the published figures of the ALT / AmplifyFE Communities of Practice Sector Audits. Every record is built from "
    "public pages, which it cites with dct:source."
)
RIGHTS = (
    "Facts with citations to their public sources (dct:source); descriptions are copgraph's own wording. Published "
    "under CC BY-SA 4.0 because figures reused from the ALT Communities of Practice Sector Audit reports, published "
    "under CC BY-SA 4.0, carry that licence: attribute ALT (for AmplifyFE) and the sources cited."
)
PUBLISHER_NAME = "copgraph contributors"  # as the ontology's dct:creator; no organisation publishes copgraph
SERVICE_DESCRIPTION = (
    "SPARQL 1.1 Query over the whole dataset, one named graph per record file (/graph/...), with results in JSON, "
    "XML, CSV, TSV and every RDF format. A GET without a query answers the SPARQL Service Description."
)
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"




def published_write(config: Config, change: Callable[[ox.Store], object], label: str) -> Metadata:
    """A maintainer's change to the embedded store, all or nothing, with the new generation's description and dumps
    published before it is swapped in: what contributions, audit imports and tests write through."""
    return write(config, change, label, publish=publish)


def publish(
    store: ox.Store,
    generation: Path,
    base: str,
    previous: Path | None = None,
    dumps: list[Dump] | None = None,
    statistics: Statistics | None = None,
) -> None:
    """Write a new generation's dumps and ontology documentation and complete its /graph/dataset description.

    Called by the build and by every write (`published_write`, `store.writes.LocalWriter`) once the generation's small
    description (store.generations.dataset_quads) is in place; `previous` is the generation a write was copied from,
    whose documentation is reused when the ontology and shapes have not changed.
    """
    from copgraph.build.ontology_docs import write_documentation

    if dumps is None:  # a build passes the dumps (and statistics) it made before adding the description
        dumps, statistics = dumps_and_statistics(store, generation, base)
    describe(store, base, dumps, statistics)
    write_documentation(store, generation, previous)


def dumps_and_statistics(store: ox.Store, generation: Path, base: str) -> tuple[list[Dump], Statistics]:
    """Write the dumps while the statistics are counted: both only read the store, and Oxigraph evaluates queries and
    writes the N-Quads the dumps start from without holding the GIL, so the two share the cores."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        statistics = pool.submit(compute_statistics, store, base)
        dumps = write_dumps(store, generation / "dumps")
        return dumps, statistics.result()


def describe(store: ox.Store, base: str, dumps: list[Dump], statistics: Statistics | None = None) -> None:
    """Add the VoID statistics and DCAT metadata to the store's /graph/dataset graph (replacing its void:triples, and
    dropping void:subset links to graphs that are not published)."""
    graph = ox.NamedNode(DATASET_GRAPH)
    dataset = ox.NamedNode(DATASET_IRI)
    published = {g.value for g in published_graphs(store) if isinstance(g, ox.NamedNode)}
    for quad in list(store.quads_for_pattern(dataset, None, None, graph)):
        stale_subset = quad.predicate.value == VOID + "subset" and quad.object.value not in published
        if quad.predicate.value == VOID + "triples" or stale_subset:
            store.remove(quad)
    if statistics is None:
        statistics = compute_statistics(store, base)
    # Bulk: no write-ahead log, which otherwise stayed in the store (73 MB at 100k communities); the generation is not
    # served until it is complete, so the description needs no transaction.
    store.bulk_extend(ox.Quad(s, p, o, graph) for s, p, o in description_triples(statistics, base, dumps))












def _integer(value: int, datatype: str = "integer") -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def description_triples(statistics: Statistics, base: str, dumps: list[Dump]) -> Iterator[tuple]:
    """The description's statements (subject, predicate, object), in addition to the lead's version and date."""
    n = ox.NamedNode
    dataset = n(DATASET_IRI)
    a = n(RDF + "type")
    endpoint = n(base + "sparql")
    publisher = n(DATASET_IRI + "#publisher")
    contact = n(DATASET_IRI + "#contact")
    yield dataset, a, n(DCAT + "Dataset")
    yield dataset, n(DCT + "title"), ox.Literal(TITLE, language="en")
    yield dataset, n(DCT + "description"), ox.Literal(DESCRIPTION, language="en")
    yield dataset, n(DCT + "issued"), ox.Literal(ISSUED, datatype=n(XSD + "date"))
    yield dataset, n(DCT + "license"), n(LICENCE)
    yield from _licence()
    yield dataset, n(DCT + "rights"), ox.Literal(RIGHTS, language="en")
    yield dataset, n(DCT + "publisher"), publisher
    yield publisher, a, n(FOAF + "Agent")
    yield publisher, n(FOAF + "name"), ox.Literal(PUBLISHER_NAME)
    # No foaf:homepage for the publisher: the site is the dataset's homepage, and foaf:homepage is inverse-functional
    # (one page, one thing), so giving it to both would make the contributors and the dataset one thing.
    yield from _contact(contact, base)
    yield dataset, n(DCAT + "contactPoint"), contact
    yield dataset, n(FOAF + "homepage"), n(base)
    yield dataset, n(DCAT + "landingPage"), n(base)
    yield n(base), a, n(FOAF + "Document")
    for keyword in ("communities of practice", "further education", "skills", "vocational education", "FE"):
        yield dataset, n(DCAT + "keyword"), ox.Literal(keyword, language="en")
    yield from _authority(dataset, DCAT + "theme", THEME, SKOS + "Concept", EU + "data-theme")
    yield from _authority(dataset, DCT + "spatial", SPATIAL, DCT + "Location", EU + "country")
    yield from _authority(dataset, DCT + "language", LANGUAGE, DCT + "LinguisticSystem", EU + "language")
    if statistics.years:
        period = ox.BlankNode()
        yield dataset, n(DCT + "temporal"), period
        yield period, a, n(DCT + "PeriodOfTime")
        yield period, n(DCAT + "startDate"), ox.Literal(statistics.years[0], datatype=n(XSD + "gYear"))
        yield period, n(DCAT + "endDate"), ox.Literal(statistics.years[1], datatype=n(XSD + "gYear"))
    yield dataset, n(VOID + "sparqlEndpoint"), endpoint
    yield from _service(endpoint, dataset, base, publisher, contact)
    yield dataset, n(VOID + "uriSpace"), ox.Literal(base + "id/")
    for example in statistics.examples:
        yield dataset, n(VOID + "exampleResource"), n(example)
    for vocabulary in statistics.vocabularies:
        yield dataset, n(VOID + "vocabulary"), n(vocabulary)
    # The pages the records cite (their dct:source): what the dataset was derived from. Not dct:source here, which
    # DCAT-AP reads as "a dcat:Dataset this one comes from".
    for source in statistics.sources:
        yield dataset, n(PROV + "wasDerivedFrom"), n(source)
    yield from _counts(dataset, statistics)
    yield from _linksets(dataset, statistics)
    for dump in dumps:
        yield from _distribution(dataset, dump, base)


def _licence() -> Iterator[tuple]:
    licence = ox.NamedNode(LICENCE)
    yield licence, ox.NamedNode(RDF + "type"), ox.NamedNode(DCT + "LicenseDocument")
    yield licence, ox.NamedNode(RDFS_LABEL), ox.Literal(LICENCE_LABEL, language="en")


def _contact(contact: ox.NamedNode, base: str) -> Iterator[tuple]:
    """Whom to tell about a mistake or a missing community: the maintainers, through the site's contribution form
    (copgraph publishes no e-mail address)."""
    n = ox.NamedNode
    yield contact, n(RDF + "type"), n(VCARD + "Kind")
    yield contact, n(VCARD + "fn"), ox.Literal(f"{PUBLISHER_NAME} (maintainers)")
    yield contact, n(VCARD + "hasURL"), n(base + "contribute")


def _authority(dataset: ox.NamedNode, predicate: str, entry: tuple[str, str], kind: str, table: str) -> Iterator[tuple]:
    """A value from one of the EU's authority tables, typed as DCAT-AP expects and labelled."""
    n = ox.NamedNode
    iri, label = entry
    yield dataset, n(predicate), n(iri)
    yield n(iri), n(RDF + "type"), n(kind)
    yield n(iri), n(SKOS + "prefLabel"), ox.Literal(label, language="en")
    yield n(iri), n(SKOS + "inScheme"), n(table)


def _service(
    endpoint: ox.NamedNode, dataset: ox.NamedNode, base: str, publisher: ox.NamedNode, contact: ox.NamedNode
) -> Iterator[tuple]:
    n = ox.NamedNode
    yield endpoint, n(RDF + "type"), n(DCAT + "DataService")
    yield endpoint, n(DCT + "title"), ox.Literal("copgraph SPARQL 1.1 endpoint", language="en")
    yield endpoint, n(DCT + "description"), ox.Literal(SERVICE_DESCRIPTION, language="en")
    yield endpoint, n(DCAT + "endpointURL"), endpoint
    # GET /sparql without a query answers its SPARQL 1.1 Service Description (sd:Service) in any RDF format.
    yield endpoint, n(DCAT + "endpointDescription"), endpoint
    yield endpoint, n(DCT + "conformsTo"), n("https://www.w3.org/TR/sparql11-protocol/")
    yield n("https://www.w3.org/TR/sparql11-protocol/"), n(RDF + "type"), n(DCT + "Standard")
    yield endpoint, n(DCAT + "servesDataset"), dataset
    yield endpoint, n(DCT + "license"), n(LICENCE)
    yield endpoint, n(DCT + "publisher"), publisher
    yield endpoint, n(DCAT + "contactPoint"), contact
    yield endpoint, n(DCAT + "landingPage"), n(base + "queries")
    yield n(base + "queries"), n(RDF + "type"), n(FOAF + "Document")


def _counts(dataset: ox.NamedNode, statistics: Statistics) -> Iterator[tuple]:
    n = ox.NamedNode
    yield dataset, n(VOID + "triples"), _integer(statistics.triples)
    yield dataset, n(VOID + "entities"), _integer(statistics.entities)
    yield dataset, n(VOID + "distinctSubjects"), _integer(statistics.distinct_subjects)
    yield dataset, n(VOID + "distinctObjects"), _integer(statistics.distinct_objects)
    yield dataset, n(VOID + "classes"), _integer(len(statistics.classes))
    yield dataset, n(VOID + "properties"), _integer(len(statistics.properties))
    for iri, instances in statistics.classes.items():
        partition = ox.BlankNode()
        yield dataset, n(VOID + "classPartition"), partition
        yield partition, n(VOID + "class"), n(iri)
        yield partition, n(VOID + "entities"), _integer(instances)
    for iri, triples in statistics.properties.items():
        partition = ox.BlankNode()
        yield dataset, n(VOID + "propertyPartition"), partition
        yield partition, n(VOID + "property"), n(iri)
        yield partition, n(VOID + "triples"), _integer(triples)


def _linksets(dataset: ox.NamedNode, statistics: Statistics) -> Iterator[tuple]:
    """One void:Linkset per target dataset and link predicate, with its true count. Links out are made only from
    data/identifiers.ttl (docs/MODEL.md): each has an adms:Identifier record on the same subject that gives its
    scheme and the page it was seen on, or a cop:caveat where no page can be cited."""
    n = ox.NamedNode
    for target, (title, homepage, spaces) in LINK_TARGETS.items():
        node = n(f"{DATASET_IRI}#{target}")
        yield node, n(RDF + "type"), n(VOID + "Dataset")
        yield node, n(DCT + "title"), ox.Literal(title, language="en")
        yield node, n(FOAF + "homepage"), n(homepage)
        for space in spaces:
            yield node, n(VOID + "uriSpace"), ox.Literal(space)
        for prefix, predicate in SAME_AS.items():
            linkset = n(f"{DATASET_IRI}#{target}-{prefix}-sameAs")
            triples = statistics.links[target, predicate]
            yield dataset, n(VOID + "subset"), linkset
            yield linkset, n(RDF + "type"), n(VOID + "Linkset")
            yield linkset, n(VOID + "linkPredicate"), n(predicate)
            yield linkset, n(VOID + "subjectsTarget"), dataset
            yield linkset, n(VOID + "objectsTarget"), node
            yield linkset, n(VOID + "triples"), _integer(triples)
            note = (
                f"Links from copgraph's records to {title} made with {prefix}:sameAs, each with the adms:Identifier "
                "record (on the same subject) that gives its scheme and source, or its caveat where no page can be "
                "cited."
                if triples
                else f"Links to {title} made with {prefix}:sameAs: none, because copgraph links with schema:sameAs "
                "(docs/MODEL.md says why); the count is kept so that any such link a maintainer adds shows here."
                if prefix == "owl"
                else f"Links to {title} made with {prefix}:sameAs: none yet."
            )
            yield linkset, n(DCT + "description"), ox.Literal(note, language="en")


def _dump_description(dump: Dump) -> str:
    packed = "a tar archive of one Turtle file per named graph" if dump.package else "one file"
    return (
        f"{dump.title}: {packed}, gzip-compressed, holding every published graph of this version of the dataset "
        "(not the description itself, nor contributions awaiting review). Size and SHA-256 as stated here."
    )


def dump_url(base: str, dump: Dump) -> str:
    return f"{base}dumps/{dump.name}"


def _distribution(dataset: ox.NamedNode, dump: Dump, base: str) -> Iterator[tuple]:
    n = ox.NamedNode
    url = n(dump_url(base, dump))
    distribution = n(f"{DATASET_IRI}#dump-{dump.name}")
    checksum = ox.BlankNode()
    yield dataset, n(DCAT + "distribution"), distribution
    yield dataset, n(VOID + "dataDump"), url
    yield distribution, n(RDF + "type"), n(DCAT + "Distribution")
    yield distribution, n(DCT + "title"), ox.Literal(dump.title, language="en")
    yield distribution, n(DCT + "description"), ox.Literal(_dump_description(dump), language="en")
    yield distribution, n(DCAT + "downloadURL"), url
    yield distribution, n(DCAT + "accessURL"), url
    yield distribution, n(DCT + "format"), n(FILE_TYPES[dump.content_type])
    yield n(FILE_TYPES[dump.content_type]), n(RDF + "type"), n(DCT + "MediaTypeOrExtent")
    yield distribution, n(DCAT + "mediaType"), n(IANA + dump.content_type)
    yield distribution, n(DCAT + "compressFormat"), n(IANA + dump.media_type)
    media_types = [IANA + dump.content_type, IANA + dump.media_type]
    if dump.package:
        yield distribution, n(DCAT + "packageFormat"), n(TAR)
        media_types.append(TAR)
    for media_type in media_types:
        yield n(media_type), n(RDF + "type"), n(DCT + "MediaType")
    # xsd:decimal, as the DCAT-AP 3.0.0 shapes and the European Data Portal check it (DCAT 3 recommends
    # xsd:nonNegativeInteger, which Oxigraph would store as xsd:integer anyway: SEMICeu/DCAT-AP#399, #422).
    yield distribution, n(DCAT + "byteSize"), _integer(dump.byte_size, "decimal")
    yield distribution, n(DCT + "license"), n(LICENCE)
    yield distribution, n(SPDX + "checksum"), checksum
    yield checksum, n(RDF + "type"), n(SPDX + "Checksum")
    yield checksum, n(SPDX + "algorithm"), n(SPDX + "checksumAlgorithm_sha256")
    yield checksum, n(SPDX + "checksumValue"), ox.Literal(dump.sha256, datatype=n(XSD + "hexBinary"))
