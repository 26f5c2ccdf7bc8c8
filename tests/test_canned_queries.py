"""The canned queries in queries/*.rq: their headers parse, and each one answers its question on the real data.

Expected answers are computed from the shared fact files (../shared/facts/*.csv beside the repository) wherever
that is practical, so these tests check the conversion of the facts as well as the queries.
"""

from __future__ import annotations

import csv
from collections import Counter
from itertools import combinations
from pathlib import Path

import pyoxigraph as ox
import pytest

from copgraph.ingest.schemes import THEME_LABELS
from copgraph.model.canned import CannedQuery, load_canned_queries, read_canned_query

ROOT = Path(__file__).resolve().parents[1]
QUERIES_DIR = ROOT / "queries"
FACTS_DIR = ROOT.parent / "shared" / "facts"
ID = "https://w3id.org/copgraph/id/"
XSD_GYEAR = ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")
# The platform kinds communities-without-open-platform.rq counts as open.
OPEN_KINDS = {"website", "podcast", "curation", "mailing-list"}

CATALOGUE = load_canned_queries(QUERIES_DIR)
BY_NAME = {query.name: query for query in CATALOGUE}


# --- helpers -------------------------------------------------------------------------------------------------------


def run(dataset, name: str, **bindings: ox.NamedNode | ox.Literal) -> list[dict[str, str | None]]:
    """Run a canned query, binding any parameters by substitution; rows map variable names to term values."""
    substitutions = {ox.Variable(key): value for key, value in bindings.items()}
    solutions = dataset.query(BY_NAME[name].text, substitutions=substitutions)
    names = [variable.value for variable in solutions.variables]
    return [{n: None if s[n] is None else s[n].value for n in names} for s in solutions]


def iri(kind: str, slug: str) -> str:
    return f"{ID}{kind}/{slug}"


def slug_of(value: str) -> str:
    return value.rsplit("/", 1)[1]


def read_facts(file_name: str) -> list[dict[str, str]]:
    if not FACTS_DIR.is_dir():
        pytest.skip(f"the shared fact files are not at {FACTS_DIR} (shared/ should sit beside the repository)")
    with (FACTS_DIR / file_name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def values(field: str) -> list[str]:
    """A multi-value fact field (';'-separated) as a list of stripped, non-empty values."""
    return [value.strip() for value in field.split(";") if value.strip()]


def platform_slugs(row: dict[str, str]) -> set[str]:
    """The platforms of a community row: the token before any ':' lower-cased, spaces as hyphens (facts README)."""
    return {token.split(":", 1)[0].strip().lower().replace(" ", "-") for token in values(row["platforms"])}


def hashtag_slugs(row: dict[str, str]) -> set[str]:
    return {tag.lstrip("#").lower() for tag in values(row["hashtags"])}


@pytest.fixture(scope="module")
def communities() -> list[dict[str, str]]:
    return read_facts("communities.csv")


@pytest.fixture(scope="module")
def platform_kinds() -> dict[str, str]:
    return {row["id"]: row["kind"] for row in read_facts("platforms.csv")}


# --- the catalogue -------------------------------------------------------------------------------------------------


def test_the_catalogue_holds_at_least_fourteen_queries_sorted_by_name():
    names = [query.name for query in CATALOGUE]
    assert len(names) >= 14
    assert names == sorted(names)


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.name)
def test_every_query_has_a_title_a_description_and_well_formed_params(query: CannedQuery):
    assert query.title and query.description
    assert query.text == (QUERIES_DIR / f"{query.name}.rq").read_text(encoding="utf-8")
    for param in query.params:
        assert param.type in {"iri", "string", "integer", "year"}
        assert not param.required, "canned queries must still work when no parameter is given"
        assert f"?{param.name}" in query.text


@pytest.mark.parametrize(
    "name",
    [
        "communities-per-platform",
        "communities-per-theme",
        "communities-per-audit",
        "functional-skills-english-maths",
        "closed-communities",
        "hashtags-and-platforms",
        "organisations-and-communities",
        "community-pairs",
        "published-figures",
        "communities-without-open-platform",
    ],
)
def test_the_audits_own_questions_each_have_a_query(name: str):
    assert name in BY_NAME


def test_a_param_line_is_parsed_into_name_type_requirement_and_description(tmp_path: Path):
    path = tmp_path / "by-platform.rq"
    path.write_text(
        "# title: By platform\n"
        "# description: Rows per platform.\n"
        "# param: platform iri optional  The platform, e.g. https://w3id.org/copgraph/id/platform/twitter\n"
        "SELECT ?platform WHERE { ?c <https://w3id.org/copgraph/def/cop#onPlatform> ?platform }\n",
        encoding="utf-8",
    )
    query = read_canned_query(path)
    assert (query.name, query.title, query.description) == ("by-platform", "By platform", "Rows per platform.")
    (param,) = query.params
    assert (param.name, param.type, param.required) == ("platform", "iri", False)
    assert param.description == "The platform, e.g. https://w3id.org/copgraph/id/platform/twitter"


@pytest.mark.parametrize(
    ("header", "complaint"),
    [
        ("# description: No title.\n", "title"),
        ("# title: No description\n", "description"),
        ("# title: T\n# description: D\n# param: platform iri\n", "malformed param"),
        ("# title: T\n# description: D\n# param: platform uri optional  Wrong type\n", "type"),
        ("# title: T\n# description: D\n# param: platform iri maybe  Wrong requirement\n", "malformed param"),
        ("# title: T\n# description: D\n# param: theme iri optional  Not in the query\n", "theme"),
        ("# title: T\n# description: D\n# param: format string optional  Chooses results\n", "reserved"),
    ],
)
def test_a_bad_header_is_refused_naming_the_file(tmp_path: Path, header: str, complaint: str):
    path = tmp_path / "bad-query.rq"
    path.write_text(header + "SELECT ?platform ?format WHERE { ?s ?p ?platform }\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad-query.rq") as raised:
        load_canned_queries(tmp_path)
    assert complaint in str(raised.value)


# --- every query runs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.name)
def test_every_query_returns_rows_on_the_real_data(dataset, query: CannedQuery):
    assert run(dataset, query.name), f"{query.name}.rq returned no rows"


PARAMETERISED = [(query, param) for query in CATALOGUE for param in query.params]


@pytest.mark.parametrize("query, param", PARAMETERISED, ids=lambda x: getattr(x, "name", None))
def test_every_param_restricts_the_rows_to_its_value(dataset, query: CannedQuery, param):
    """A value taken from the unrestricted answer, bound by substitution or by a VALUES clause, keeps only its rows."""
    solutions = list(dataset.query(query.text))
    # Bound in every row, or a row without it would survive either kind of binding under any value.
    assert all(s[param.name] is not None for s in solutions)
    value = solutions[0][param.name]
    expected = sum(1 for s in solutions if s[param.name] == value)
    by_substitution = list(dataset.query(query.text, substitutions={ox.Variable(param.name): value}))
    by_values = list(dataset.query(f"{query.text}\nVALUES ?{param.name} {{ {value} }}\n"))
    for restricted in (by_substitution, by_values):
        assert len(restricted) == expected
        assert all(s[param.name] == value for s in restricted)


# --- the audits' questions, answered from the facts --------------------------------------------------------------


def test_communities_per_platform_match_the_facts(dataset, communities):
    expected = Counter(slug for row in communities for slug in platform_slugs(row))
    rows = run(dataset, "communities-per-platform")
    counts = {slug_of(row["platform"]): int(row["communities"]) for row in rows}
    assert {slug: n for slug, n in counts.items() if n} == dict(expected)
    assert [int(row["communities"]) for row in rows] == sorted(counts.values(), reverse=True)


def test_twitter_is_the_most_used_platform_after_generic_websites(dataset, communities):
    # The facts list a plain "Website" for 20 communities, more than Twitter's 16; Twitter leads every named platform.
    rows = [row for row in run(dataset, "communities-per-platform") if row["platform"] != iri("platform", "website")]
    assert rows[0]["platform"] == iri("platform", "twitter")
    assert int(rows[0]["communities"]) == sum("twitter" in platform_slugs(row) for row in communities)


def test_communities_per_platform_can_be_restricted_to_twitter(dataset, communities):
    rows = run(dataset, "communities-per-platform", platform=ox.NamedNode(iri("platform", "twitter")))
    assert [int(row["communities"]) for row in rows] == [sum("twitter" in platform_slugs(r) for r in communities)]


def test_communities_per_theme_match_the_facts_and_show_unused_themes_as_zero(dataset, communities):
    expected = Counter(theme for row in communities for theme in values(row["themes"]))
    counts = {slug_of(row["theme"]): int(row["communities"]) for row in run(dataset, "communities-per-theme")}
    assert {theme: n for theme, n in counts.items() if n} == dict(expected)
    assert set(counts) == set(THEME_LABELS)  # every theme in the scheme (ingest/schemes.py), used or not


def test_communities_per_audit_show_published_totals_beside_observed_communities(dataset):
    rows = {row["year"]: row for row in run(dataset, "communities-per-audit")}
    assert set(rows) == {"2020", "2021", "2024"}
    assert rows["2020"]["publishedTotal"] == "100"
    assert rows["2021"]["publishedTotal"] == "130"
    assert rows["2024"]["publishedTotal"] is None  # no aggregate figures were found for 2024
    assert int(rows["2021"]["communitiesObserved"]) >= 1  # at least the Tes forums' closure


def test_communities_per_audit_can_be_restricted_to_a_year(dataset):
    rows = run(dataset, "communities-per-audit", year=ox.Literal("2021", datatype=XSD_GYEAR))
    assert [(row["year"], row["publishedTotal"]) for row in rows] == [("2021", "130")]


def test_functional_skills_english_and_maths_communities_match_the_facts(dataset, communities):
    subjects = {"functional-skills", "english", "maths"}
    expected = {row["id"] for row in communities if subjects & set(values(row["themes"]))}
    found = {slug_of(row["community"]) for row in run(dataset, "functional-skills-english-maths")}
    assert found == expected
    assert {"skills-workshop", "cfem"} <= found


def test_closed_communities_match_the_facts_with_their_status_notes(dataset, communities):
    expected = {row["id"]: row["status_note"] for row in communities if row["status"] == "closed"}
    rows = run(dataset, "closed-communities")
    assert {slug_of(row["community"]): row["statusNote"] or "" for row in rows} == expected


def test_the_tes_forums_closure_is_dated_to_the_2021_audit(dataset):
    rows = [
        row
        for row in run(dataset, "closed-communities")
        if row["community"] == iri("community", "tes-community-forums")
    ]
    assert any(row["audit"] == iri("audit", "2021") and row["closedYear"] == "2021" for row in rows)


def test_hashtags_are_listed_with_the_platforms_of_the_communities_using_them(dataset, communities):
    expected: dict[str, set[str]] = {}
    for row in communities:
        for tag in hashtag_slugs(row):
            expected.setdefault(tag, set()).update(platform_slugs(row))
    found: dict[str, set[str]] = {}
    for row in run(dataset, "hashtags-and-platforms"):
        found.setdefault(slug_of(row["hashtag"]), set()).add(slug_of(row["platform"]))
    # Hashtags whose communities have no recorded platform (e.g. #OTLA) are left out, as the description says.
    assert found == {tag: platforms for tag, platforms in expected.items() if platforms}


def test_joyfe_is_on_twitter_through_both_communities_using_it(dataset):
    rows = run(
        dataset,
        "hashtags-and-platforms",
        hashtag=ox.NamedNode(iri("hashtag", "joyfe")),
        platform=ox.NamedNode(iri("platform", "twitter")),
    )
    assert [(row["tag"], int(row["communities"])) for row in rows] == [("#JoyFE", 2)]


def test_organisations_are_listed_with_the_role_the_data_gives_them(dataset):
    rows = run(dataset, "organisations-and-communities")
    roles = {(slug_of(row["organisation"]), row["role"], slug_of(row["community"])) for row in rows}
    assert {row["role"] for row in rows} <= {"hosts", "sponsors", "funds", "delivers", "partners with", "supports"}
    assert ("tes", "hosts", "tes-community-forums") in roles
    assert ("alt", "hosts", "amplifyfe") in roles
    assert ("ufi-voctech-trust", "funds", "amplifyfe") in roles


def test_organisations_and_communities_name_only_organisations_in_the_facts(dataset):
    known = {row["id"] for row in read_facts("organisations.csv")}
    assert {slug_of(row["organisation"]) for row in run(dataset, "organisations-and-communities")} <= known


def test_community_pairs_are_those_sharing_a_theme_or_hashtag_each_pair_once(dataset, communities):
    shared_by: dict[str, set[str]] = {
        row["id"]: {f"theme:{t}" for t in values(row["themes"])} | {f"tag:{t}" for t in hashtag_slugs(row)}
        for row in communities
    }
    expected = {}
    for a, b in combinations(sorted(shared_by), 2):
        if shared := shared_by[a] & shared_by[b]:
            expected[frozenset((a, b))] = len(shared)
    rows = run(dataset, "community-pairs")
    found = {frozenset((slug_of(r["community"]), slug_of(r["otherCommunity"]))): int(r["sharedCount"]) for r in rows}
    assert len(found) == len(rows), "a pair is listed twice"
    assert found == expected


def test_joyfe_and_its_ideas_room_share_their_hashtags(dataset, communities):
    by_id = {row["id"]: row for row in communities}
    shared = hashtag_slugs(by_id["joyfe"]) & hashtag_slugs(by_id["joyfe-ideas-room"])
    rows = [
        row
        for row in run(dataset, "community-pairs")
        if {slug_of(row["community"]), slug_of(row["otherCommunity"])} == {"joyfe", "joyfe-ideas-room"}
    ]
    (pair,) = rows
    assert int(pair["sharedHashtags"]) == len(shared)
    assert {"#JoyFE", "#IdeasRoom"} <= set(pair["sharedLabels"].split(", "))


def test_published_figures_match_the_facts(dataset):
    expected = {
        (row["year"], int(row["value"])) for row in read_facts("audits.csv") if row["figure"] != "report_published"
    }
    rows = run(dataset, "published-figures")
    assert {(row["year"], int(row["value"])) for row in rows} == expected
    totals = {row["year"]: row["value"] for row in rows if row["measure"] == iri("measure", "communities-total")}
    published = [row for row in read_facts("audits.csv") if row["figure"] == "communities_total"]
    assert totals == {row["year"]: row["value"] for row in published}


def test_published_figures_can_be_restricted_to_a_year_and_measure(dataset):
    rows = run(
        dataset,
        "published-figures",
        year=ox.Literal("2021", datatype=XSD_GYEAR),
        measure=ox.NamedNode(iri("measure", "communities-total")),
    )
    assert [row["value"] for row in rows] == ["130"]


def test_communities_without_an_open_platform_match_the_facts(dataset, communities, platform_kinds):
    expected = {
        row["id"] for row in communities if not {platform_kinds[slug] for slug in platform_slugs(row)} & OPEN_KINDS
    }
    found = {slug_of(row["community"]) for row in run(dataset, "communities-without-open-platform")}
    assert found == expected
    assert "ukfechat" not in found  # it has a website and a Wakelet


def test_communities_by_status_match_the_facts(dataset, communities):
    expected = Counter(row["status"] for row in communities)
    rows = run(dataset, "communities-by-status")
    assert {slug_of(row["status"]): int(row["communities"]) for row in rows if int(row["communities"])} == expected


def test_communities_by_governance_match_the_facts(dataset, communities):
    expected = Counter(row["governance"] for row in communities)
    active = Counter(row["governance"] for row in communities if row["status"] == "active")
    rows = [row for row in run(dataset, "communities-by-governance") if int(row["communities"])]
    assert {slug_of(row["governance"]): int(row["communities"]) for row in rows} == expected
    assert {slug_of(row["governance"]): int(row["active"]) for row in rows if int(row["active"])} == active


def test_platform_kinds_count_platforms_and_communities_as_the_facts_do(dataset, communities, platform_kinds):
    platforms = Counter(platform_kinds.values())
    users = Counter(kind for row in communities for kind in {platform_kinds[slug] for slug in platform_slugs(row)})
    rows = run(dataset, "platform-kinds")
    assert {slug_of(row["kind"]): int(row["platforms"]) for row in rows if int(row["platforms"])} == platforms
    assert {slug_of(row["kind"]): int(row["communities"]) for row in rows if int(row["communities"])} == users


def test_communities_by_founding_decade_match_the_facts(dataset, communities):
    expected = Counter(f"{row['founded'][:3]}0s" for row in communities if row["founded"])
    rows = run(dataset, "communities-by-founding-decade")
    assert {row["decade"]: int(row["communities"]) for row in rows} == expected


def test_platforms_per_community_match_the_facts(dataset, communities):
    expected = {row["id"]: len(platform_slugs(row)) for row in communities}
    rows = run(dataset, "platforms-per-community")
    assert {slug_of(row["community"]): int(row["platformCount"]) for row in rows} == expected


def test_handles_by_platform_include_every_handle_in_the_facts(dataset, communities):
    expected = set()
    for row in communities:
        for token in values(row["platforms"]):
            platform, _, detail = token.partition(":")
            if detail and not detail.startswith("http"):
                expected.add((row["id"], platform.strip().lower().replace(" ", "-"), detail.strip()))
    rows = run(dataset, "presences-by-platform")
    found = {(slug_of(r["community"]), slug_of(r["platform"]), r["handle"]) for r in rows if r["handle"]}
    assert expected <= found
    assert ("esol-research-jiscmail", "jiscmail", "ESOL-RESEARCH@JISCMAIL.AC.UK") in found


def test_sources_per_community_count_the_sources_the_facts_cite(dataset, communities):
    expected = {row["id"]: len(set(row["sources"].split())) for row in communities}
    rows = run(dataset, "sources-per-community")
    assert {slug_of(row["community"]): int(row["communitySources"]) for row in rows} == expected
    assert all(int(row["sources"]) >= int(row["communitySources"]) for row in rows)


def test_the_ideas_room_is_part_of_joyfe(dataset):
    rows = run(dataset, "communities-part-of", parent=ox.NamedNode(iri("community", "joyfe")))
    assert iri("community", "joyfe-ideas-room") in {row["community"] for row in rows}


def test_audit_changes_show_the_2021_additions_and_removals(dataset):
    rows = {row["year"]: row for row in run(dataset, "audit-changes")}
    changes = rows["2021"]
    assert (changes["total"], changes["rechecked"], changes["added"], changes["removed"]) == ("130", "100", "36", "6")
    assert changes["tesForumsClosed"] == "74"
    assert rows["2020"]["total"] == "100" and rows["2020"]["added"] is None


def test_the_tes_forums_are_observed_closed_in_the_2021_audit(dataset):
    rows = run(dataset, "community-observations", community=ox.NamedNode(iri("community", "tes-community-forums")))
    assert any(
        row["year"] == "2021" and row["audit"] == iri("audit", "2021") and row["status"] == iri("status", "closed")
        for row in rows
    )
