"""`copgraph import-audit`, `copgraph diff`, /changes and the audit-to-audit-changes query, on scratch copies.

The shipped fixtures (tests/fixtures/audit-2021-*.csv) hold only values the facts give, so their activity and member
cells are empty. Rows with figures are SYNTHETIC: written by this module into tmp_path as audit-synthetic*.csv, with
a source of https://example.org/synthetic, and never into data/.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from copgraph.build.pipeline import build
from copgraph.cli import main
from copgraph.core.config import Config
from copgraph.model.canned import read_canned_query
from copgraph.store.reader import open_dataset
from tests.conftest import REPO, running_server

FIXTURES = Path(__file__).parent / "fixtures"
SYNTHETIC_SOURCE = "https://example.org/synthetic"
HEADER = ["name", "url", "hashtags", "activity", "members", "subject_focus", "status", "platforms"]
ID = "https://w3id.org/copgraph/id/"
COP = "https://w3id.org/copgraph/def/cop#"
# Synthetic audit rows (name, url, hashtags, activity, members, subject focus, status, platforms): made up, for tests
# only. Between them: #FEResearchMeet added, NATECLA not observed again, PDNorth renamed (listed under another name in
# 2020), #UKFEchat moved from Wakelet to Zoom (and listed as "UKFE chat" in 2020: the same name but for a space).
SYNTHETIC_2020 = [
    ["UKFE chat", "http://www.ukfechat.com", "#UKFEchat", "high", "900", "", "active", "Twitter:@theukfechat;Wakelet"],
    ["NATECLA", "https://natecla.org.uk", "", "low", "", "", "", "Website;Forum"],
    ["Professional Development North", "https://pdnorth.org.uk", "", "", "", "", "", "Twitter;Email list"],
]
SYNTHETIC_2021 = [
    ["#UKFEchat", "http://www.ukfechat.com/", "#UKFEchat", "High", "1,200", "Pedagogy; knitting", "active",
     "twitter:@theukfechat; Zoom"],
    ["PDNorth", "", "#PDNorth2020", "medium", "n/a", "research", "", "Email list;Twitter"],
    ["#FEResearchMeet", "", "#FEResearchMeet", "low", "40", "", "", ""],
]  # fmt: skip


def synthetic_csv(folder: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "") -> Path:
    """A synthetic audit spreadsheet in folder (never data/): made-up figures for tests."""
    path = folder / (name or "audit-synthetic.csv")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def copgraph(root: Path, *args: str, store: Path | None = None) -> int:
    """Run the CLI in this process against root (and its store)."""
    return main([*args, "--root", str(root), "--store", str(store or root / "store")])


def import_audit(root: Path, path: Path, year: str, *options: str) -> int:
    return copgraph(root, "import-audit", str(path), "--year", year, "--source", SYNTHETIC_SOURCE, *options)


def data_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((root / "data").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def store_config(root: Path) -> Config:
    return Config.from_env(environ={}, root=root, store=root / "store")


def scratch_copy(root: Path) -> Path:
    """A copy of the repository's ontology, shapes, data and queries under root (which the caller may change)."""
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    return root


@pytest.fixture(scope="module")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy with a store built once per module; tests get their own copies of both."""
    root = scratch_copy(tmp_path_factory.mktemp("template") / "root")
    build(store_config(root))
    return root


@pytest.fixture
def built_scratch(built_template: Path, tmp_path: Path) -> Path:
    """A scratch copy of the repository with its own store (the tests write to both); copied, not rebuilt, since a
    store is plain files and `current` a relative link."""
    return Path(shutil.copytree(built_template, tmp_path / "root", symlinks=True))


def observation_values(root: Path, slug: str) -> dict[str, str]:
    """What the store holds about one observation, by property local name (one value of each)."""
    dataset = open_dataset(store_config(root))
    subject = ox.NamedNode(f"{ID}observation/{slug}")
    return {
        q.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]: q.object.value
        for q in dataset.store.quads_for_pattern(subject, None, None)
    }


def observed_platforms(root: Path, slug: str) -> set[str]:
    dataset = open_dataset(store_config(root))
    subject, predicate = ox.NamedNode(f"{ID}observation/{slug}"), ox.NamedNode(COP + "observedPlatform")
    return {
        q.object.value.removeprefix(f"{ID}platform/") for q in dataset.store.quads_for_pattern(subject, predicate, None)
    }


# --- all or nothing -------------------------------------------------------------------------------------------------


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(built_scratch: Path, capsys):
    before, version = data_digest(built_scratch), open_dataset(store_config(built_scratch)).version
    assert copgraph(built_scratch, "import-audit", str(FIXTURES / "audit-2021-one-bad-row.csv"), "--year", "2021") == 1
    err = capsys.readouterr().err
    assert "bad row 6: members 'lots' is not a whole number" in err
    assert "1 bad row(s): nothing written" in err
    assert data_digest(built_scratch) == before
    assert open_dataset(store_config(built_scratch)).version == version


def test_every_bad_row_is_reported_with_its_spreadsheet_row_number(built_scratch: Path, capsys):
    rows = [
        SYNTHETIC_2021[0],
        ["PDNorth", "", "", "very busy", "", "", ""],
        ["#FEResearchMeet", "", "", "low", "about 300", "", ""],
        ["A community nobody has heard of", "https://example.org/nobody", "", "low", "", "", ""],
        ["#UKFEchat", "", "", "low", "", "", "thriving"],
    ]
    before, version = data_digest(built_scratch), open_dataset(store_config(built_scratch)).version
    assert import_audit(built_scratch, synthetic_csv(built_scratch.parent, rows), "2021") == 1
    err = capsys.readouterr().err
    assert "bad row 3: activity 'very busy' is not one of high, medium, low, none" in err
    assert "bad row 4: members 'about 300' is not a whole number" in err
    assert "bad row 5: 'A community nobody has heard of' is not in copgraph yet: contribute it" in err
    assert "bad row 6: status 'thriving' is not one of" in err and "the same community as row 2" in err
    assert "bad row 2" not in err
    assert data_digest(built_scratch) == before
    assert open_dataset(store_config(built_scratch)).version == version


def test_skip_bad_loads_the_good_rows_into_the_file_and_the_store(built_scratch: Path, capsys):
    rows = [*SYNTHETIC_2021, ["#EnglishFE", "", "#EnglishFE", "", "lots", "", ""]]
    assert import_audit(built_scratch, synthetic_csv(built_scratch.parent, rows), "2021", "--skip-bad") == 0
    captured = capsys.readouterr()
    assert "wrote 3 observation(s) to data/audits/2021-observations.ttl" in captured.out
    assert "bad row 5: members 'lots'" in captured.err and "warning: 1 bad row(s) skipped" in captured.err
    assert "row 2: subject focus knitting matches no theme: not recorded" in captured.err
    text = (built_scratch / "data" / "audits" / "2021-observations.ttl").read_text(encoding="utf-8")
    assert "englishfe" not in text
    stored = observation_values(built_scratch, "ukfechat-2021")
    assert stored["memberCount"] == "1200"
    assert stored["activityLevel"] == f"{ID}activity/high"
    assert stored["subject"] == f"{ID}theme/pedagogy"
    assert stored["source"] == SYNTHETIC_SOURCE
    assert stored["observedName"] == "#UKFEchat"
    assert observed_platforms(built_scratch, "ukfechat-2021") == {"twitter", "zoom"}  # "twitter:@handle" matches too
    assert "memberCount" not in observation_values(built_scratch, "pdnorth-2021")  # "n/a": no figure, not zero


def test_importing_a_year_again_replaces_its_communities_and_keeps_the_others(built_scratch: Path):
    assert import_audit(built_scratch, synthetic_csv(built_scratch.parent, SYNTHETIC_2021), "2021") == 0
    again = [["#UKFEchat", "", "#UKFEchat", "low", "", "", ""]]
    assert import_audit(built_scratch, synthetic_csv(built_scratch.parent, again, name="again.csv"), "2021") == 0
    assert observation_values(built_scratch, "ukfechat-2021")["activityLevel"] == f"{ID}activity/low"
    assert "memberCount" not in observation_values(built_scratch, "ukfechat-2021")
    assert observed_platforms(built_scratch, "ukfechat-2021") == set()  # replaced whole, platforms too
    assert observation_values(built_scratch, "pdnorth-2021")  # an earlier row of the same year is kept
    assert copgraph(built_scratch, "validate", str(built_scratch / "data")) == 0


def test_an_observation_already_recorded_elsewhere_is_a_bad_row(scratch_root: Path, capsys):
    rows = [["Tes community forums", "", "", "", "", "", "closed"]]
    assert import_audit(scratch_root, synthetic_csv(scratch_root.parent, rows), "2021") == 1
    assert (
        "already records https://w3id.org/copgraph/id/observation/tes-community-forums-2021" in capsys.readouterr().err
    )


# --- reports without writing ------------------------------------------------------------------------------------------


def test_the_sample_from_the_facts_records_the_name_and_platforms_of_every_row(scratch_root: Path, capsys):
    """The sample has no figures, but each row still says the audit listed the community, under which name and on
    which platforms: enough for an observation."""
    assert copgraph(scratch_root, "import-audit", str(FIXTURES / "audit-2021-sample.csv"), "--year", "2021") == 0
    captured = capsys.readouterr()
    assert "wrote 6 observation(s) to data/audits/2021-observations.ttl" in captured.out
    assert "not in copgraph" not in captured.err  # every platform the facts name is one copgraph has
    written = ox.Store()
    written.load(path=str(scratch_root / "data" / "audits" / "2021-observations.ttl"), format=ox.RdfFormat.TURTLE)
    ukfechat = ox.NamedNode(f"{ID}observation/ukfechat-2021")
    names = [q.object.value for q in written.quads_for_pattern(ukfechat, ox.NamedNode(COP + "observedName"), None)]
    platforms = {
        q.object.value for q in written.quads_for_pattern(ukfechat, ox.NamedNode(COP + "observedPlatform"), None)
    }
    assert names == ["#UKFEchat"]
    assert platforms == {f"{ID}platform/{slug}" for slug in ("twitter", "wakelet", "website")}
    assert copgraph(scratch_root, "validate", str(scratch_root / "data")) == 0


def test_dry_run_reports_and_writes_nothing(built_scratch: Path, capsys):
    before, version = data_digest(built_scratch), open_dataset(store_config(built_scratch)).version
    path = synthetic_csv(built_scratch.parent, SYNTHETIC_2021)
    assert import_audit(built_scratch, path, "2021", "--dry-run") == 0
    assert "would write 3 observation(s) to data/audits/2021-observations.ttl" in capsys.readouterr().out
    assert data_digest(built_scratch) == before
    assert open_dataset(store_config(built_scratch)).version == version


@pytest.mark.parametrize("as_file", [False, True], ids=["inline", "json-file"])
def test_a_mapping_reads_other_column_names(scratch_root: Path, capsys, as_file: bool):
    header = ["Community Name", "Website", *HEADER[2:3], "Activity Level", *HEADER[4:7], "Seen on"]
    path = synthetic_csv(scratch_root.parent, SYNTHETIC_2021, header=header)
    mapping = {"name": "Community Name", "url": "Website", "activity": "Activity Level", "platforms": "Seen on"}
    if as_file:
        (scratch_root.parent / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
        given = str(scratch_root.parent / "mapping.json")
    else:
        given = ",".join(f"{ours}={theirs}" for ours, theirs in mapping.items())
    assert import_audit(scratch_root, path, "2021", "--mapping", given, "--dry-run") == 0
    assert "would write 3 observation(s)" in capsys.readouterr().out


def test_mapped_name_and_platform_columns_are_recorded_as_seen_by_the_audit(scratch_root: Path, capsys):
    header = ["Listed as", "url", "hashtags", "activity", "members", "subject_focus", "status", "Platforms used"]
    seen = "Twitter:@theukfechat;Zoom;MySpace;Teams"
    rows = [["  UKFE   chat ", "http://www.ukfechat.com", "", "", "", "", "", seen]]
    path = synthetic_csv(scratch_root.parent, rows, header=header)
    assert import_audit(scratch_root, path, "2021", "--mapping", "name=Listed as,platforms=Platforms used") == 0
    err = capsys.readouterr().err
    assert "row 2: platform MySpace, Teams is not in copgraph (data/platforms.ttl): not recorded" in err
    written = (scratch_root / "data" / "audits" / "2021-observations.ttl").read_text(encoding="utf-8")
    assert 'cop:observedName "UKFE chat"' in written  # as the audit wrote it, on one line
    assert "platform/twitter" in written and "platform/zoom" in written and "myspace" not in written.lower()


def test_without_a_name_column_the_file_is_refused_with_the_way_out(scratch_root: Path, capsys):
    path = synthetic_csv(scratch_root.parent, SYNTHETIC_2021, header=["Community", *HEADER[1:]])
    assert import_audit(scratch_root, path, "2021") == 2
    assert "the header has no 'name' column" in capsys.readouterr().err


def test_a_row_matching_several_communities_is_ambiguous(scratch_root: Path, capsys):
    # #JoyFE and #IdeasRoom belong to both JoyFE and its Ideas Room; the name narrows neither.
    rows = [["Joy collective", "", "#JoyFE", "high", "", "", ""], ["Ideas Room", "", "#JoyFE", "low", "", "", ""]]
    assert import_audit(scratch_root, synthetic_csv(scratch_root.parent, rows), "2021", "--dry-run") == 1
    err = capsys.readouterr().err
    assert "bad row 2: 'Joy collective' matches more than one community by hashtag: #JoyFE (joyfe), Ideas Room" in err
    assert "bad row 3" not in err  # the name picks the Ideas Room out of the two


def test_a_row_without_any_source_is_bad(scratch_root: Path, capsys):
    path = synthetic_csv(scratch_root.parent, SYNTHETIC_2021[:1])
    assert copgraph(scratch_root, "import-audit", str(path), "--year", "2021") == 1
    assert "bad row 2: no source" in capsys.readouterr().err


# --- two audits imported: diff, /changes, the canned query -------------------------------------------------------


@pytest.fixture(scope="module")
def two_audits(built_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A scratch copy with synthetic 2020 and 2021 imports, its store, and a server over it."""
    root = Path(shutil.copytree(built_template, tmp_path_factory.mktemp("audits") / "root", symlinks=True))
    for year, rows in (("2020", SYNTHETIC_2020), ("2021", SYNTHETIC_2021)):
        path = synthetic_csv(root.parent, rows, name=f"audit-synthetic-{year}.csv")
        assert import_audit(root, path, year) == 0
    with running_server(root, root / "store", workers=1) as url:
        yield root, url


def test_the_data_still_conforms_after_two_imports(two_audits, capsys):
    root, _ = two_audits
    assert copgraph(root, "validate", str(root / "data")) == 0
    assert "Conforms" in capsys.readouterr().out


def test_diff_counts_in_the_reports_style_beside_the_published_figures(two_audits, capsys):
    root, _ = two_audits
    assert copgraph(root, "diff", "2020", "2021") == 0
    out = capsys.readouterr().out
    assert (
        "show one addition and one closed; one community observed in 2020 was not observed again in 2021; "
        "one renamed and one community moved between platforms." in out
    )
    assert "The 2021 audit published 36 additions and six removed (130 communities in total, from 100 in 2020)." in out
    assert "#FEResearchMeet" in out and "NATECLA" in out and "Tes community forums" in out
    assert "renamed (1):\n  PDNorth  <https://w3id.org/copgraph/id/community/pdnorth>  " in out
    assert "(Professional Development North → PDNorth)" in out
    assert "moved between platforms (1):\n  #UKFEchat  <https://w3id.org/copgraph/id/community/ukfechat>  " in out
    assert "(Twitter; Wakelet → Twitter; Zoom)" in out


def test_diff_refuses_years_in_the_wrong_order(two_audits, capsys):
    root, _ = two_audits
    assert copgraph(root, "diff", "2021", "2020") == 2
    assert "must come before" in capsys.readouterr().err


def test_the_changes_page_as_json(two_audits):
    _, url = two_audits
    response = requests.get(url + "/changes", params={"from": "2020", "to": "2021", "format": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["counts"] == {
        "added": 1,
        "closed": 1,
        "not observed again": 1,
        "renamed": 1,
        "moved between platforms": 1,
    }
    assert [entry["label"] for entry in data["changes"]["added"]] == ["#FEResearchMeet"]
    assert data["changes"]["renamed"] == [
        {
            "community": f"{ID}community/pdnorth",
            "label": "PDNorth",
            "before": "Professional Development North",
            "after": "PDNorth",
        }
    ]
    assert data["changes"]["moved between platforms"] == [
        {
            "community": f"{ID}community/ukfechat",
            "label": "#UKFEchat",
            "before": "Twitter; Wakelet",
            "after": "Twitter; Zoom",
        }
    ]
    assert data["published"] == {"added": 36, "removed": 6, "total_from": 100, "total_to": 130}
    assert "36 additions and six removed" in data["published_sentence"]


def test_the_changes_page_as_html_shows_both_counts(two_audits):
    _, url = two_audits
    response = requests.get(url + "/changes?from=2020&to=2021", headers={"Accept": "text/html"}, timeout=30)
    assert response.status_code == 200
    assert "36 additions and six removed" in response.text and "one addition and one closed" in response.text
    assert '<label for="changes-from">' in response.text and '<label for="changes-to">' in response.text
    assert 'href="/id/community/pdnorth">PDNorth</a>: Professional Development North → PDNorth' in response.text
    assert 'href="/id/community/ukfechat">#UKFEchat</a>: Twitter; Wakelet → Twitter; Zoom' in response.text


@pytest.mark.parametrize(
    ("query", "phrase"),
    [("from=2021&to=2020", "must come before"), ("from=20x1&to=2021", "four digits"), ("since=2020", "since")],
)
def test_the_changes_page_refuses_bad_years_with_a_400(two_audits, query: str, phrase: str):
    _, url = two_audits
    response = requests.get(f"{url}/changes?{query}", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert phrase in response.json()["error"]


def test_the_canned_query_runs_with_and_without_years(two_audits):
    root, url = two_audits
    query = read_canned_query(root / "queries" / "audit-to-audit-changes.rq")
    assert [param.name for param in query.params] == ["from", "to"]
    accept = {"Accept": "application/sparql-results+json"}
    bound = requests.get(f"{url}/queries/audit-to-audit-changes?from=2020&to=2021", headers=accept, timeout=30)
    assert bound.status_code == 200, bound.text
    rows = [{k: v["value"] for k, v in b.items()} for b in bound.json()["results"]["bindings"]]
    assert {(row["change"], row["label"], row.get("before"), row.get("after")) for row in rows} == {
        ("added", "#FEResearchMeet", None, None),
        ("closed", "Tes community forums", None, None),
        ("not observed again", "NATECLA", None, None),
        ("renamed", "PDNorth", "Professional Development North", "PDNorth"),
        ("moved between platforms", "#UKFEchat", "Twitter; Wakelet", "Twitter; Zoom"),
    }
    every_pair = requests.get(f"{url}/queries/audit-to-audit-changes", headers=accept, timeout=30).json()
    pairs = {(b["from"]["value"], b["to"]["value"]) for b in every_pair["results"]["bindings"]}
    assert ("2020", "2021") in pairs and all(a < b for a, b in pairs)
