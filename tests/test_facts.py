"""The facts conversion (python -m copgraph.ingest.facts): every row of ../shared/facts is a record in the built store
with every source of its row, links out come only from identifiers.csv, and running the conversion again is safe —
it adds what is new, updates what nobody has touched, and keeps (and shows) what was edited in data/ since.

Expected values are read from the fact files themselves, never pasted here.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from copgraph.ingest.facts import convert
from copgraph.ingest.facts_merge import MANIFEST
from copgraph.model.stats import dataset_counts
from copgraph.store.reader import Dataset

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT.parent / "shared" / "facts"
ID = "https://w3id.org/copgraph/id/"
DCT_SOURCE = "http://purl.org/dc/terms/source"
SCHEMA_SAME_AS = "https://schema.org/sameAs"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


def facts(name: str) -> list[dict[str, str]]:
    if not FACTS.is_dir():
        pytest.skip(f"the shared fact files are not at {FACTS} (shared/ should sit beside the repository)")
    with (FACTS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def objects(dataset: Dataset, subject: str, predicate: str) -> set[str]:
    rows = dataset.query(f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}")
    return {row["o"].value for row in rows}


def is_a(dataset: Dataset, iri: str, cls: str) -> bool:
    return bool(dataset.query(f"ASK {{ <{iri}> a <{cls}> }}"))


# --- Every row a record, with every source of its row -------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "kind", "cls", "sources_column"),
    [
        ("communities.csv", "community", "https://w3id.org/copgraph/def/cop#CommunityOfPractice", "sources"),
        ("organisations.csv", "organisation", "http://www.w3.org/ns/org#Organization", "sources"),
        ("platforms.csv", "platform", "https://w3id.org/copgraph/def/cop#Platform", "sources"),
    ],
)
def test_every_row_is_a_record_with_every_source_of_its_row(
    dataset: Dataset, file_name: str, kind: str, cls: str, sources_column: str
) -> None:
    wrong = []
    for row in facts(file_name):
        iri = f"{ID}{kind}/{row['id']}"
        if not is_a(dataset, iri, cls):
            wrong.append((row["id"], "missing"))
        elif missing := set(row[sources_column].split()) - objects(dataset, iri, DCT_SOURCE):
            wrong.append((row["id"], sorted(missing)))
    assert not wrong, wrong[:10]


def test_the_store_holds_exactly_the_rows_of_the_facts(dataset: Dataset) -> None:
    for file_name, cls in (
        ("communities.csv", "https://w3id.org/copgraph/def/cop#CommunityOfPractice"),
        ("organisations.csv", "http://www.w3.org/ns/org#Organization"),
        ("platforms.csv", "https://w3id.org/copgraph/def/cop#Platform"),
    ):
        stored = int(next(iter(dataset.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}")))[0].value)
        assert stored == len(facts(file_name)), file_name


def test_every_update_is_an_observation_of_its_community_with_its_own_sources(dataset: Dataset) -> None:
    wrong = []
    numbers: dict[str, int] = {}
    for row in facts("community_updates.csv"):
        numbers[row["community_id"]] = numbers.get(row["community_id"], 0) + 1
        observation = f"{ID}observation/{row['community_id']}-update-{numbers[row['community_id']]}"
        cop = "https://w3id.org/copgraph/def/cop#"
        if objects(dataset, observation, cop + "observedCommunity") != {f"{ID}community/{row['community_id']}"}:
            wrong.append((observation, "community"))
        if objects(dataset, observation, cop + "reportedFact") != {row["fact"]}:
            wrong.append((observation, "fact"))
        if objects(dataset, observation, DCT_SOURCE) != set(row["sources"].split()):
            wrong.append((observation, "sources"))
    assert not wrong, wrong


def test_the_new_controlled_values_have_labels_and_definitions(dataset: Dataset) -> None:
    skos = "http://www.w3.org/2004/02/skos/core#"
    for kind, slug in (
        ("governance", "university"),
        ("governance", "trade-union"),
        ("governance", "consultancy"),
        ("theme", "offender-learning"),
    ):
        concept = f"{ID}{kind}/{slug}"
        assert objects(dataset, concept, skos + "inScheme") == {f"{ID}scheme/{kind}"}, concept
        assert objects(dataset, concept, skos + "prefLabel"), concept
        assert objects(dataset, concept, skos + "definition"), concept


def test_the_home_page_counts_follow_the_facts(dataset: Dataset) -> None:
    counts = dict(dataset_counts(dataset))
    assert counts["Communities"] == len(facts("communities.csv"))
    assert counts["Organisations"] == len(facts("organisations.csv"))
    assert counts["Platforms"] == len(facts("platforms.csv"))


# --- Links out, only from identifiers.csv -------------------------------------------------------------------------


def test_links_out_are_exactly_the_iris_of_identifiers_csv(dataset: Dataset) -> None:
    rows = dataset.query(f"SELECT ?s ?o WHERE {{ {{ ?s <{SCHEMA_SAME_AS}> ?o }} UNION {{ ?s <{OWL_SAME_AS}> ?o }} }}")
    links = {(row["s"].value, row["o"].value) for row in rows}
    expected = {(f"{ID}{r['subject_kind']}/{r['subject_id']}", r["iri"]) for r in facts("identifiers.csv") if r["iri"]}
    assert links == expected


def test_every_identifier_has_its_scheme_and_its_sources_or_its_caveat(dataset: Dataset) -> None:
    adms, cop = "http://www.w3.org/ns/adms#", "https://w3id.org/copgraph/def/cop#"
    for row in facts("identifiers.csv"):
        thing = f"{ID}{row['subject_kind']}/{row['subject_id']}"
        identifier = f"{ID}identifier/{row['subject_id']}-{row['scheme']}"
        assert identifier in objects(dataset, thing, adms + "identifier")
        assert objects(dataset, identifier, "http://www.w3.org/2004/02/skos/core#notation") == {row["value"]}
        assert objects(dataset, identifier, "http://purl.org/dc/terms/conformsTo") == {
            f"{ID}identifier-scheme/{row['scheme']}"
        }
        assert objects(dataset, identifier, DCT_SOURCE) == set(row["sources"].split())
        if not row["sources"]:  # the Wikidata QIDs: their caveat travels with them
            assert objects(dataset, identifier, cop + "caveat") == {row["note"]}


def test_no_two_things_share_a_homepage(dataset: Dataset) -> None:
    """foaf:homepage is inverse-functional: a shared one would tell a reasoner that two things are one."""
    rows = dataset.query(
        "SELECT ?a ?b ?page WHERE { ?a <http://xmlns.com/foaf/0.1/homepage> ?page . "
        "?b <http://xmlns.com/foaf/0.1/homepage> ?page FILTER (STR(?a) < STR(?b)) }"
    )
    assert not [(row["a"].value, row["b"].value) for row in rows]


# --- Running the conversion again ---------------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of data/ to convert into."""
    facts("communities.csv")
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    return copy


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["records"]


def test_running_the_conversion_again_on_converted_data_changes_nothing(data: Path) -> None:
    before = snapshot(data)
    outcome = convert(FACTS, data)
    assert outcome.written == []
    assert {event.kind for event in outcome.events} == {"unchanged"}
    assert snapshot(data) == before


def test_a_record_missing_from_data_is_added(data: Path) -> None:
    (data / "communities" / "ukfechat.ttl").unlink()
    records = manifest(data)
    del records["communities/ukfechat.ttl"]
    (data / MANIFEST).write_text(json.dumps({"records": records}), encoding="utf-8")
    outcome = convert(FACTS, data)
    assert data / "communities" / "ukfechat.ttl" in outcome.written
    assert ("added", "community/ukfechat") in {(e.kind, e.record) for e in outcome.events}
    original = ox.Dataset(ox.parse(path=str(ROOT / "data" / "communities" / "ukfechat.ttl")))
    assert ox.Dataset(ox.parse(path=str(data / "communities" / "ukfechat.ttl"))) == original


def test_a_record_removed_from_data_since_is_not_added_again(data: Path) -> None:
    (data / "communities" / "ukfechat.ttl").unlink()
    outcome = convert(FACTS, data)
    assert not (data / "communities" / "ukfechat.ttl").exists()
    assert ("removed-since", "community/ukfechat") in {(e.kind, e.record) for e in outcome.events}


def test_a_record_edited_in_data_is_kept_and_its_difference_shown(data: Path) -> None:
    path = data / "communities" / "ukfechat.ttl"
    edited = path.read_text(encoding="utf-8").replace('rdfs:label "#UKFEchat"', 'rdfs:label "#UKFEchat (edited)"')
    assert edited != path.read_text(encoding="utf-8")
    path.write_text(edited, encoding="utf-8")
    outcome = convert(FACTS, data)
    assert path.read_text(encoding="utf-8") == edited
    [event] = [e for e in outcome.events if e.record == "community/ukfechat"]
    assert event.kind == "differs"
    assert any("#UKFEchat (edited)" in line for line in event.only_in_data)
    assert any('"#UKFEchat"' in line for line in event.only_in_facts)
    assert "#UKFEchat (edited)" in outcome.report()


def test_replace_takes_the_facts_version_of_an_edited_record(data: Path) -> None:
    path = data / "communities" / "ukfechat.ttl"
    path.write_text(path.read_text(encoding="utf-8").replace('"#UKFEchat"', '"#UKFEchat (edited)"'), encoding="utf-8")
    outcome = convert(FACTS, data, replace=["community/ukfechat"])
    assert ("updated", "community/ukfechat") in {(e.kind, e.record) for e in outcome.events}
    assert "(edited)" not in path.read_text(encoding="utf-8")


def test_a_record_nobody_edited_follows_a_change_in_the_facts(data: Path, tmp_path: Path) -> None:
    changed = tmp_path / "facts"
    shutil.copytree(FACTS, changed)
    rows = facts("communities.csv")
    rows[[r["id"] for r in rows].index("ukfechat")]["status_note"] = "a newer note, from a later source"
    with (changed / "communities.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outcome = convert(changed, data)
    assert [(e.kind, e.file) for e in outcome.events if e.kind != "unchanged"] == [
        ("updated", "communities/ukfechat.ttl")
    ]
    assert "a newer note, from a later source" in (data / "communities" / "ukfechat.ttl").read_text(encoding="utf-8")
    assert convert(changed, data).written == []  # and the run after that has nothing to do


def test_a_dry_run_writes_nothing(data: Path) -> None:
    (data / "communities" / "ukfechat.ttl").unlink()
    records = manifest(data)
    del records["communities/ukfechat.ttl"]
    (data / MANIFEST).write_text(json.dumps({"records": records}), encoding="utf-8")
    before = snapshot(data)
    outcome = convert(FACTS, data, dry_run=True)
    assert outcome.count("added") and outcome.written == []
    assert snapshot(data) == before
