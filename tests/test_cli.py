"""The `copgraph` command as a user runs it: exit codes, formats, messages."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

from copgraph.core.config import Config
from tests.conftest import NAMELESS_COMMUNITY, REPO, copgraph_command


def run(*args: str, config: Config | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COPGRAPH_ROOT": str(REPO)}
    if config is not None:
        env["COPGRAPH_STORE"] = str(config.store_dir)
    return subprocess.run(copgraph_command(*args), env=env, input=stdin, capture_output=True, text=True, timeout=120)


def test_validate_data_folder_conforms() -> None:
    result = run("validate", "data")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Conforms" in result.stdout


def test_validate_unreadable_file_exits_2_with_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "no end .\n')
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert f"{bad}:2:" in result.stderr


def test_validate_reports_violations_as_json(tmp_path: Path) -> None:
    contribution = tmp_path / "nameless.ttl"
    contribution.write_text(NAMELESS_COMMUNITY)
    result = run("validate", str(contribution), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["conforms"] is False
    assert {r["focus_node"] for r in report["results"]} == {"https://w3id.org/copgraph/id/community/nameless"}
    assert all(r["message"] and r["source_shape"] for r in report["results"])


def test_validate_turtle_report_is_a_shacl_validation_report(tmp_path: Path) -> None:
    contribution = tmp_path / "nameless.ttl"
    contribution.write_text(NAMELESS_COMMUNITY)
    result = run("validate", str(contribution), "--format", "turtle")
    assert result.returncode == 1
    assert "sh:ValidationReport" in result.stdout


def test_validate_unknown_path_exits_2() -> None:
    result = run("validate", "no-such-folder")
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


def test_query_from_a_file_as_csv(built_config: Config) -> None:
    query = REPO / "tests" / "count-communities.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> }")
    try:
        result = run("query", "-f", str(query), "--format", "csv", config=built_config)
    finally:
        query.unlink()
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    communities = len(list((REPO / "data" / "communities").glob("*.ttl")))
    assert rows == [["n"], [str(communities)]]


def test_query_from_stdin_as_a_table(built_config: Config) -> None:
    text = "SELECT ?l WHERE { <https://w3id.org/copgraph/id/community/ukfechat> rdfs:label ?l }"
    text = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + text
    result = run("query", "--format", "table", config=built_config, stdin=text)
    assert result.returncode == 0, result.stderr
    assert "#UKFEchat" in result.stdout and "(1 row)" in result.stdout


def test_construct_query_as_turtle(built_config: Config) -> None:
    text = "CONSTRUCT WHERE { <https://w3id.org/copgraph/id/platform/twitter> ?p ?o }"
    result = run("query", text, "--format", "turtle", config=built_config)
    assert result.returncode == 0, result.stderr
    assert "<https://w3id.org/copgraph/id/platform/twitter>" in result.stdout


def test_malformed_query_exits_2_with_the_parser_message(built_config: Config) -> None:
    result = run("query", "SELECT WHERE {", config=built_config)
    assert result.returncode == 2
    assert "malformed query" in result.stderr


def test_query_without_a_store_says_to_build(tmp_path: Path) -> None:
    result = run("query", "ASK {}", config=Config.from_env(environ={}, store=tmp_path / "none"))
    assert result.returncode == 2
    assert "copgraph build" in result.stderr


def test_stats_counts_the_facts(built_config: Config) -> None:
    result = run("stats", config=built_config)
    assert result.returncode == 0, result.stderr
    communities = len(list((REPO / "data" / "communities").glob("*.ttl")))
    assert f"communities{communities:>{8 + 15 - len('communities')}}" in result.stdout
    assert "2021" in result.stdout and "130" in result.stdout


def test_build_refuses_invalid_data_with_exit_1(scratch_root: Path, tmp_path: Path) -> None:
    (scratch_root / "data" / "communities" / "nameless.ttl").write_text(NAMELESS_COMMUNITY)
    env = {**os.environ, "COPGRAPH_ROOT": str(scratch_root), "COPGRAPH_STORE": str(tmp_path / "store")}
    result = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "refused" in result.stderr and "community/nameless" in result.stderr
