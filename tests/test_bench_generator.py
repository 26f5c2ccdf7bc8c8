"""The synthetic sector-graph generator for benchmarks (benchmarks/generate.py): it makes a copgraph root whose data
conforms to the shapes, builds into a store, is a pure function of (communities, seed), is skewed like the sector,
and its contributions validate (or, deliberately broken, do not) in the context of the generated graph."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.generate import (
    REPO,
    generate,
    load_manifest,
    main,
    make_contribution,
    make_invalid_contribution,
    repository_themes,
    sizes,
)
from copgraph.build.pipeline import build
from copgraph.build.shacl import Validator
from copgraph.core.config import Config
from copgraph.store.reader import open_dataset

SMALL = 60
COP = "https://w3id.org/copgraph/def/cop#"
ID = "https://w3id.org/copgraph/id/"
TRIPLE = re.compile(r'^<([^>]*)> <([^>]*)> (<[^>]*>|".*"(?:\^\^<[^>]*>|@[a-z-]+)?) \.$')


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synthetic") / "root"
    assert main(["--communities", str(SMALL), "--seed", "42", "--out", str(root)]) == 0
    return root, load_manifest(root)


@pytest.fixture(scope="module")
def validator(small: tuple[Path, dict]) -> Validator:
    return Validator(small[0])


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Big enough for the distributions and the rules (checked here in Python; SHACL at this size is slow)."""
    root = tmp_path_factory.mktemp("synthetic-medium")
    return root, generate(5000, 7, root)


def triples(root: Path) -> list[tuple[str, str, str]]:
    found = []
    for line in (root / "data" / "synthetic.nt").read_text(encoding="utf-8").splitlines():
        match = TRIPLE.match(line)
        assert match, f"not an N-Triples line of the expected form: {line}"
        found.append(match.groups())
    return found


def parse(turtle: str) -> list[ox.Quad]:
    return list(ox.parse(input=turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))


def test_the_root_folder(small: tuple[Path, dict]) -> None:
    root, manifest = small
    for name in ("ontology", "shapes", "queries"):  # copies: a symlinked folder breaks graph names
        copied = sorted(p.relative_to(root / name) for p in (root / name).rglob("*.*"))
        assert copied and copied == sorted(p.relative_to(REPO / name) for p in (REPO / name).rglob("*.*"))
    assert sorted(p.name for p in (root / "data").iterdir()) == ["schemes.ttl", "synthetic.nt", "themes.ttl"]
    assert manifest["communities"] == SMALL and manifest["seed"] == 42 and manifest["file"] == "data/synthetic.nt"
    assert manifest["triples"] == len((root / manifest["file"]).read_bytes().splitlines())
    assert isinstance(manifest["generated_seconds"], float)
    for kind in ("community", "platform", "theme", "organisation", "hashtag", "audit", "presence"):
        assert manifest["samples"][kind], kind
        assert all(iri.startswith(f"{ID}{kind}/") for iri in manifest["samples"][kind]), kind
    assert len(manifest["samples"]["community"]) == SMALL
    assert set(manifest["popular"]["platform"]) == set(manifest["samples"]["platform"])  # all 20, fewer than 2000
    # Every sampled IRI is a subject in the graph (the vocabulary's themes are in the copied data/themes.ttl).
    subjects = {s for s, _, _ in triples(root)} | {ID + "theme/" + t for t in ("pedagogy", "edtech", "maths")}
    for kind, iris in manifest["samples"].items():
        assert set(iris) <= subjects | set(manifest["popular"]["theme"]), kind


def test_records_are_recognisably_synthetic_and_sourced(small: tuple[Path, dict]) -> None:
    root, _ = small
    by_subject: dict[str, set[str]] = defaultdict(set)
    for s, p, o in triples(root):
        by_subject[s].add(p)
        if p == "http://purl.org/dc/terms/source":
            assert o.startswith("<https://example.org/synthetic/source/"), o
    for subject, predicates in by_subject.items():
        kind, slug = subject.removeprefix(ID).split("/", 1)
        if kind in ("audit", "figure"):  # the model's year-based IRIs
            assert re.fullmatch(r"20\d\d(-[a-z-]+)?", slug), subject
        elif kind == "scheme":
            continue  # hasTopConcept of the synthetic themes on the copied theme scheme
        else:
            assert slug.startswith("syn"), subject
        assert "http://purl.org/dc/terms/source" in predicates, subject


def test_generated_graph_conforms_to_the_shapes(validator: Validator) -> None:
    report = validator.validate_files([])
    assert report.conforms, report.to_text()


def test_builds_into_a_store_with_every_community(small: tuple[Path, dict], tmp_path: Path) -> None:
    root, manifest = small
    config = Config.from_env(environ={}, root=root, store=tmp_path / "store")
    metadata = build(config)
    assert f"{ID.removesuffix('id/')}graph/synthetic" in metadata.graphs
    dataset = open_dataset(config)
    count = f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c a <{COP}CommunityOfPractice> }}"
    assert int(next(iter(dataset.query(count)))["n"].value) == SMALL
    presences = f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?c <{COP}hasPresence> ?p . ?p <{COP}onPlatform> ?x }}"
    assert int(next(iter(dataset.query(presences)))["n"].value) == manifest["counts"]["presences"]


def test_same_input_same_bytes(small: tuple[Path, dict], tmp_path: Path) -> None:
    root, manifest = small
    again = generate(SMALL, 42, tmp_path / "again")
    assert (tmp_path / "again" / "data" / "synthetic.nt").read_bytes() == (root / "data" / "synthetic.nt").read_bytes()
    assert {k: v for k, v in again.items() if k != "generated_seconds"} == {
        k: v for k, v in manifest.items() if k != "generated_seconds"
    }
    # Generating again into the same folder replaces the previous output.
    generate(SMALL, 43, tmp_path / "again")
    assert (tmp_path / "again" / "data" / "synthetic.nt").read_bytes() != (root / "data" / "synthetic.nt").read_bytes()
    assert load_manifest(tmp_path / "again")["seed"] == 43


def test_refuses_the_repository_data_and_foreign_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="refusing"):
        generate(10, 42, REPO / "data" / "synthetic")
    assert not (REPO / "data" / "synthetic").exists()
    (tmp_path / "keep.txt").write_text("not ours")
    with pytest.raises(ValueError, match="not empty"):
        generate(10, 42, tmp_path)
    assert main(["--communities", "10", "--out", str(REPO / "data")]) == 2


def test_sizes_and_skew(medium: tuple[Path, dict]) -> None:
    root, manifest = medium
    counts = manifest["counts"]
    expected = sizes(5000) | {"themes": max(sizes(5000)["themes"], len(repository_themes()))}
    assert {kind: counts[kind] for kind in ("platforms", "themes", "organisations")} == expected
    assert 0.15 * 5000 < counts["hashtags"] < 0.25 * 5000
    assert 1.5 * 5000 < counts["presences"] < 2.5 * 5000
    graph = triples(root)
    per_platform = Counter(o for _, p, o in graph if p == COP + "onPlatform")
    assert len(per_platform) == counts["platforms"]
    uses = sorted(per_platform.values(), reverse=True)
    assert uses[0] > 5 * statistics.median(uses), uses
    # "popular" lists platforms most used first, as the data has them.
    assert [per_platform[f"<{iri}>"] for iri in manifest["popular"]["platform"]] == uses
    per_theme = Counter(o for _, p, o in graph if p == "http://purl.org/dc/terms/subject")
    theme_uses = sorted(per_theme.values(), reverse=True)
    assert theme_uses[0] > 3 * statistics.median(theme_uses), theme_uses
    assert [per_theme[f"<{iri}>"] for iri in manifest["popular"]["theme"]] == theme_uses
    years = Counter(o for _, p, o in graph if p == COP + "inAudit")
    assert len(years) == 8  # audits 2018..2025 all hold observations


def test_cross_record_rules_hold_at_scale(medium: tuple[Path, dict]) -> None:
    """rules.ttl's rules (and the one-owner-per-hashtag rule) checked in Python on 5000 communities."""
    root, _ = medium
    graph = triples(root)
    platform_of, handle_of, owner_of = {}, {}, {}
    for s, p, o in graph:
        if p == COP + "onPlatform":
            platform_of[s] = o
        elif p == COP + "handle":
            handle_of[s] = o.lower()
        elif p == COP + "hasPresence":
            assert o not in owner_of, f"presence {o} has two communities"
            owner_of[o] = s
    handles = Counter((platform_of[p], h) for p, h in handle_of.items())
    assert handles and max(handles.values()) == 1
    tag_owners = Counter(o for _, p, o in graph if p == COP + "hashtag")
    assert tag_owners and max(tag_owners.values()) == 1
    labels = {s: o for s, p, o in graph if p.endswith("rdf-schema#label")}
    tags = {s: o for s, p, o in graph if p == COP + "normalisedTag"}
    assert tags and all(tag.strip('"') == labels[s].strip('"').removeprefix("#").lower() for s, tag in tags.items())
    # Rule 1: no active observation after a closed one.
    observed: dict[str, dict[str, str]] = defaultdict(dict)
    status_of, year_of = {}, {}
    for s, p, o in graph:
        if p == COP + "observedCommunity":
            observed[s]["community"] = o
        elif p == COP + "inAudit":
            year_of[s] = int(o.rsplit("/", 1)[-1].rstrip(">"))
        elif p == COP + "status" and "/observation/" in s:
            status_of[s] = o.rsplit("/", 1)[-1].rstrip(">")
    history: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for obs, fields in observed.items():
        history[fields["community"]].append((year_of[obs], status_of[obs]))
    closing = 0
    for events in history.values():
        closed = [y for y, st in events if st == "closed"]
        if closed:
            closing += 1
            assert not any(st == "active" and y > min(closed) for y, st in events), events
    assert closing > 0.1 * len(history)  # some communities do close
    assert any(min(y for y, _ in events) > 2018 for events in history.values())  # and some are added later


def test_contribution_validates_in_the_context_of_the_generated_graph(
    small: tuple[Path, dict], validator: Validator
) -> None:
    _, manifest = small
    for index in (0, 1):  # with and without a new hashtag
        turtle = make_contribution(manifest, index)
        assert turtle == make_contribution(manifest, index)
        report = validator.validate_quads(parse(turtle))
        assert report.conforms, turtle + "\n" + report.to_text()
    assert "cop:hashtag" in make_contribution(manifest, 0) and "cop:hashtag" not in make_contribution(manifest, 1)


def test_invalid_contribution_is_caught(small: tuple[Path, dict], validator: Validator) -> None:
    _, manifest = small
    report = validator.validate_quads(parse(make_invalid_contribution(manifest, 3)))
    assert not report.conforms
    assert {r.source_shape.rsplit("#", 1)[-1] for r in report.results} == {"Community-label"}
    assert all(r.focus_node == f"{ID}community/syn-contrib-0000003" for r in report.results)


def test_manifest_is_json_with_samples_bounded(medium: tuple[Path, dict]) -> None:
    root, manifest = medium
    assert json.loads((root / "manifest.json").read_text()) == manifest
    for kind, iris in manifest["samples"].items():
        assert len(iris) <= 2000 and len(set(iris)) == len(iris), kind
    assert len(manifest["samples"]["community"]) == 2000 and len(manifest["samples"]["presence"]) == 2000
