"""copgraph's own concept schemes: the labels and definitions we chose, and the Turtle that states them.

These are editorial, the only values of the data not read from a source: the status, governance, platform-kind,
organisation-type, activity, measure and identifier-scheme schemes (data/schemes.ttl) and the themes
(data/themes.ttl). The facts
conversion writes them once; audit imports check a spreadsheet's activity, status and subject focus against the
same tables.
"""

from __future__ import annotations

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, SKOS

from copgraph.core.things import iri, new_graph

STATUS_LABELS = {
    "active": "Active",
    "dormant": "Dormant",
    "closed": "Closed",
    "unknown": "Unknown",
}
STATUS_DEFINITIONS = {
    "active": "The latest source shows the community meeting, posting or running.",
    "dormant": "The community still exists but its latest source shows it winding down or inactive.",
    "closed": "The community has closed, ended or been shut down.",
    "unknown": "The latest source is too old or too vague to say whether the community is still running.",
}
GOVERNANCE_LABELS = {
    "membership-body": "Membership body",
    "independent-practitioners": "Independent practitioners",
    "sector-body": "Sector body",
    "college-or-provider": "College or provider",
    "technology-company": "Technology or media company",
    "charity-or-trust": "Charity or trust",
    "public-body": "Public body",
    "university": "University",
    "trade-union": "Trade union",
    "consultancy": "Consultancy",
    "unknown": "Unknown",
}
GOVERNANCE_DEFINITIONS = {
    "membership-body": "Run by or for the members of a professional or subject association.",
    "independent-practitioners": "Run by practitioners themselves, as volunteers, without an organisation in charge.",
    "sector-body": "Run or convened by a national body of the FE and skills sector.",
    "college-or-provider": "Run by a college or another education and training provider.",
    "technology-company": "Run on a space that a technology or media company owns and operates.",
    "charity-or-trust": "Run or funded by a charity or trust.",
    "public-body": "Run or commissioned by a government department or another public body.",
    "university": "Hosted or run by a university, as a network or programme of its own.",
    "trade-union": "Run by a trade union for its members or for the sector.",
    "consultancy": "Run by a consultancy, as a service or programme it delivers.",
    "unknown": "The sources do not say who runs the community.",
}
PLATFORM_KIND_LABELS = {
    "social-network": "Social network",
    "chat": "Chat",
    "video-meeting": "Video meeting",
    "mailing-list": "Mailing list",
    "curation": "Curation",
    "website": "Website",
    "forum": "Forum",
    "podcast": "Podcast",
    "other": "Other",
}
ORGANISATION_TYPE_LABELS = {
    "membership-body": "Membership body",
    "sector-body": "Sector body",
    "university": "University",
    "college": "College",
    "awarding-body": "Awarding body",
    "media": "Media",
    "technology-company": "Technology company",
    "public-body": "Public body",
    "trade-union": "Trade union",
    "consultancy": "Consultancy",
    "charity-or-trust": "Charity or trust",
}
ACTIVITY_LABELS = {"high": "High", "medium": "Medium", "low": "Low", "none": "None"}
THEME_LABELS = {
    "edtech": "Educational technology",
    "learning-technology": "Learning technology",
    "digital-skills": "Digital skills",
    "vocational-subjects": "Vocational subjects",
    "pedagogy": "Pedagogy",
    "curriculum": "Curriculum",
    "teacher-education": "Teacher education",
    "policy": "Policy",
    "wellbeing": "Wellbeing",
    "leadership": "Leadership",
    "research": "Research",
    "esol": "ESOL (English for speakers of other languages)",
    "adult-community-learning": "Adult and community learning",
    "english": "English",
    "maths": "Maths",
    "functional-skills": "Functional skills",
    "employer-engagement": "Employer engagement",
    "apprenticeships": "Apprenticeships",
    "learning-resources": "Learning resources",
    "careers": "Careers",
    "inclusion-send": "Inclusion and SEND",
    "equality-diversity": "Equality and diversity",
    "offender-learning": "Offender learning",
}
# Definitions of the themes added to the brief's list (the others are named by their labels alone).
THEME_DEFINITIONS = {
    "learning-resources": "Libraries, learning resource centres and the staff who run them.",
    "equality-diversity": "Equality, diversity and inclusion of staff and learners, and the networks that promote it.",
    "offender-learning": "Education and training in prisons and for offenders in the community.",
}
# The schemes of external identifiers (identifiers.csv `scheme` column): label, definition and the body that keeps
# the register (adms:schemaAgency of each identifier).
IDENTIFIER_SCHEMES = {
    "companies-house": (
        "Companies House company number",
        "The number of a company registered in the United Kingdom, as Companies House assigns it (eight characters).",
        "Companies House",
    ),
    "charity-commission-ew": (
        "Charity Commission registered charity number",
        "The number of a charity on the register of the Charity Commission for England and Wales.",
        "Charity Commission for England and Wales",
    ),
    "wikidata": (
        "Wikidata item identifier",
        "The identifier (QID) of an item in Wikidata, the free knowledge base run by the Wikimedia Foundation.",
        "Wikimedia Foundation",
    ),
}
# The audits' figure names, as measures (audits.csv `figure` column → measure slug and label).
MEASURES = {
    "communities_total": ("communities-total", "Communities of practice in the audit"),
    "communities_rechecked": ("communities-rechecked", "Communities from the previous audit checked again"),
    "communities_added": ("communities-added", "Communities added since the previous audit"),
    "communities_removed": ("communities-removed", "Communities removed since the previous audit"),
    "tes_forums_closed": ("tes-forums-closed", "Tes community forums closed"),
    "amplifyfe_professionals_connected": ("professionals-connected", "Professionals connected by AmplifyFE"),
    "amplifyfe_practitioners_connected": ("practitioners-connected", "Practitioners connected by AmplifyFE"),
}


def add_scheme(graph: Graph, kind: str, title: str, labels: dict[str, str], definitions: dict | None = None) -> None:
    scheme = iri("scheme", kind)
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, Literal(title, lang="en")))
    graph.add((scheme, RDFS.label, Literal(title)))
    for slug, label in labels.items():
        concept = iri(kind, slug)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
        graph.add((concept, RDFS.label, Literal(label)))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.topConceptOf, scheme))
        graph.add((scheme, SKOS.hasTopConcept, concept))
        if definitions and slug in definitions:
            graph.add((concept, SKOS.definition, Literal(definitions[slug], lang="en")))


def convert_schemes() -> Graph:
    graph = new_graph()
    add_scheme(graph, "status", "Community status", STATUS_LABELS, STATUS_DEFINITIONS)
    add_scheme(graph, "governance", "Community governance type", GOVERNANCE_LABELS, GOVERNANCE_DEFINITIONS)
    add_scheme(graph, "platform-kind", "Platform kind", PLATFORM_KIND_LABELS)
    add_scheme(graph, "organisation-type", "Organisation type", ORGANISATION_TYPE_LABELS)
    add_scheme(graph, "activity", "Activity level", ACTIVITY_LABELS)
    add_scheme(graph, "measure", "Published audit and network figures", dict(MEASURES.values()))
    identifier_labels = {slug: label for slug, (label, _, _) in IDENTIFIER_SCHEMES.items()}
    identifier_definitions = {slug: definition for slug, (_, definition, _) in IDENTIFIER_SCHEMES.items()}
    add_scheme(graph, "identifier-scheme", "Identifier scheme", identifier_labels, identifier_definitions)
    return graph


def convert_themes() -> Graph:
    graph = new_graph()
    add_scheme(graph, "theme", "Themes of FE and skills communities of practice", THEME_LABELS, THEME_DEFINITIONS)
    return graph
