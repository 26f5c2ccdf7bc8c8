"""The served application, through a real `copgraph serve` process on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

import pytest
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from copgraph.core.config import Config
from tests.conftest import REPO, copgraph_command, free_port, wait_until_serving

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> }"


def test_home_page_says_what_copgraph_is_and_links_the_endpoint(server: str, dataset) -> None:
    page = requests.get(server + "/", timeout=10)
    assert page.status_code == 200
    assert "communities of practice" in page.text
    assert 'href="/sparql"' in page.text
    assert dataset.version in page.text


def test_get_query_answers_sparql_json(server: str, repo_root) -> None:
    response = requests.get(
        server + "/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    value = response.json()["results"]["bindings"][0]["n"]["value"]
    assert int(value) == len(list((repo_root / "data" / "communities").glob("*.ttl")))


def test_post_form_query_answers_csv(server: str) -> None:
    response = requests.post(server + "/sparql", data={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.text)))[0] == ["n"]


def test_post_sparql_query_body(server: str) -> None:
    response = requests.post(
        server + "/sparql", data=COUNT.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=10
    )
    assert response.status_code == 200
    assert "bindings" in response.json()["results"]


def test_format_parameter_overrides_accept(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": COUNT, "format": "tsv"}, timeout=10)
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")


def test_malformed_query_is_a_400_with_the_parser_message(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": "SELECT WHERE {"}, timeout=10)
    assert response.status_code == 400
    assert "Malformed query" in response.text
    assert "Traceback" not in response.text


def test_sparqlwrapper_select(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(COUNT)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) > 0


@pytest.mark.parametrize(("setting", "logged"), [(None, True), ("false", False), ("on", True)])
def test_the_access_log_is_one_line_a_request_unless_turned_off(
    built_config: Config, tmp_path: Path, setting: str | None, logged: bool
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(REPO), "COPGRAPH_STORE": str(built_config.store_dir)}
    if setting is not None:
        env["COPGRAPH_ACCESS_LOG"] = setting
    output = tmp_path / "out.log"
    command = copgraph_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
    with output.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/healthz", process)
            assert requests.get(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=10).status_code == 200
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert ('"GET /sparql HTTP/1.1" 200' in output.read_text(errors="replace")) is logged


def test_an_access_log_setting_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(ValueError, match="COPGRAPH_ACCESS_LOG must be true or false"):
        Config.from_env(environ={"COPGRAPH_ACCESS_LOG": "sometimes"})


def _logged(app: object, path: str) -> tuple[int, str]:
    """A request through copgraph's access log around `app`; the status and the line written."""
    from werkzeug.test import Client

    from copgraph.web.http.access_log import AccessLog

    read_end, write_end = os.pipe()
    try:
        try:
            status = (
                Client(AccessLog(app, fd=write_end)).get(path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code
            )
        except RuntimeError:
            status = 0  # the application raised: the server answers 500
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as lines:
        return status, lines.read().decode()


def test_the_access_log_line_gives_method_path_status_and_time(built_config: Config) -> None:
    from copgraph.web.app import create_app

    app = create_app(built_config)
    status, line = _logged(app, "/doc/community/ukfechat?secret=1")
    assert status == 200
    assert line.startswith('127.0.0.1 - "GET /doc/community/ukfechat HTTP/1.1" 200 ') and line.endswith("ms\n")
    assert "secret" not in line  # query strings are not logged
    status, line = _logged(app, "/doc/community/no-such-thing")
    assert status == 404 and '" 404 ' in line


def test_a_path_cannot_forge_an_access_log_line(built_config: Config) -> None:
    from copgraph.web.app import create_app

    _, line = _logged(create_app(built_config), "/x%0A127.0.0.1%20-%20%22GET%20/forged")
    assert line.count("\n") == 1
    assert "/x\\x0a127.0.0.1" in line


def test_an_application_that_fails_is_logged_as_500() -> None:
    def failing(environ: dict, start_response: object) -> list[bytes]:
        raise RuntimeError("broken")

    status, line = _logged(failing, "/anything")
    assert status == 0 and line.startswith('127.0.0.1 - "GET /anything HTTP/1.1" 500 ')
