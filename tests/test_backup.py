"""`copgraph backup` and `copgraph restore`: a backup restored into a fresh store is the same dataset, and a restore
refuses anything that is not a complete backup without changing the store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from copgraph.build.description import published_write
from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.store.backup import BackupError, backup, restore
from copgraph.store.generations import current_generation
from copgraph.store.reader import open_dataset
from tests.conftest import REPO, copgraph_command, running_server

MARK = "INSERT DATA { GRAPH <http://example.org/backup> { <http://example.org/s> <http://example.org/p> 'written' } }"


def quads_of(store_dir: Path) -> set[str]:
    """Every quad of the served generation, as N-Quads lines (blank nodes keep their stored labels)."""
    store = ox.Store.read_only(str(current_generation(store_dir) / "oxigraph"))
    return {line for line in ox.serialize(store, format=ox.RdfFormat.N_QUADS).decode().splitlines() if line}


@pytest.fixture(scope="module")
def original_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built from the repository's data, then changed by a maintainer's write (built once: builds are slow)."""
    config = Config.from_env(environ={}, root=REPO, store=tmp_path_factory.mktemp("backup") / "store")
    build(config, validate=False)
    published_write(config, lambda store: store.update(MARK), "test")
    return config.store_dir


@pytest.fixture
def written_store(original_store: Path, scratch_root: Path) -> Config:
    """A copy of `original_store` that a test may change (the `current` link is relative, so the copy is whole)."""
    shutil.copytree(original_store, scratch_root / "store", symlinks=True)
    return Config.from_env(environ={}, root=scratch_root, store=scratch_root / "store")


def test_restore_into_a_fresh_store_gives_the_same_dataset(written_store: Config, tmp_path: Path) -> None:
    backup(written_store.store_dir, tmp_path / "backup")
    fresh = tmp_path / "fresh-store"
    restored = restore(fresh, tmp_path / "backup")
    assert quads_of(fresh) == quads_of(written_store.store_dir)
    original = open_dataset(written_store)
    assert restored.version == original.version == open_dataset(Config(store=fresh)).version
    assert (current_generation(fresh) / "dumps").is_dir()


def test_backup_and_restore_through_the_command_line(written_store: Config, tmp_path: Path) -> None:
    arguments = ["--root", str(written_store.root), "--store", str(written_store.store_dir)]
    made = subprocess.run(copgraph_command("backup", *arguments, str(tmp_path / "b")), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert open_dataset(written_store).version in made.stdout
    fresh = ["--root", str(written_store.root), "--store", str(tmp_path / "fresh")]
    restored = subprocess.run(copgraph_command("restore", *fresh, str(tmp_path / "b")), capture_output=True, text=True)
    assert restored.returncode == 0, restored.stderr
    assert quads_of(tmp_path / "fresh") == quads_of(written_store.store_dir)


def test_backup_refuses_a_directory_that_is_not_empty(written_store: Config, tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="not an empty directory"):
        backup(written_store.store_dir, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert not list(tmp_path.glob(".occupied.partial-*"))


def test_backup_into_an_existing_empty_directory(written_store: Config, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert backup(written_store.store_dir, tmp_path / "empty").version == open_dataset(written_store).version


def test_restore_swaps_the_backup_into_a_running_server(written_store: Config, tmp_path: Path) -> None:
    backup(written_store.store_dir, tmp_path / "b")
    saved = open_dataset(written_store).version
    clear = "CLEAR GRAPH <http://example.org/backup>"
    published_write(written_store, lambda store: store.update(clear), "after the backup")
    with running_server(written_store.root, written_store.store_dir) as url:
        assert requests.get(url + "/healthz", timeout=10).json()["version"] != saved
        restore(written_store.store_dir, tmp_path / "b")
        assert requests.get(url + "/healthz", timeout=10).json()["version"] == saved
        ask = "ASK { GRAPH <http://example.org/backup> { ?s ?p 'written' } }"
        answer = requests.get(url + "/sparql", params={"query": ask}, headers={"Accept": "application/json"})
        assert answer.json()["boolean"] is True


def _without_meta(backup_dir: Path) -> None:
    (backup_dir / "meta.json").unlink()


def _with_broken_meta(backup_dir: Path) -> None:
    (backup_dir / "meta.json").write_text("{not json")


def _with_empty_store(backup_dir: Path) -> None:
    shutil.rmtree(backup_dir / "oxigraph")
    (backup_dir / "oxigraph").mkdir()


def _with_corrupt_store(backup_dir: Path) -> None:
    (backup_dir / "oxigraph" / "CURRENT").write_text("garbage\n")


def _with_another_version(backup_dir: Path) -> None:
    meta = json.loads((backup_dir / "meta.json").read_text())
    (backup_dir / "meta.json").write_text(json.dumps(meta | {"version": "0000000000000000"}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_without_meta, "no meta.json"),
        (_with_broken_meta, "not a copgraph backup's metadata"),
        (_with_empty_store, "cannot be opened"),
        (_with_corrupt_store, "cannot be opened"),
        (_with_another_version, "inconsistent"),
    ],
)
def test_restore_refuses_what_is_not_a_valid_backup_and_changes_nothing(
    written_store: Config, tmp_path: Path, damage, message: str
) -> None:
    backup(written_store.store_dir, tmp_path / "b")
    damage(tmp_path / "b")
    before, generations = quads_of(written_store.store_dir), sorted((written_store.store_dir / "generations").iterdir())
    with pytest.raises(BackupError, match=message):
        restore(written_store.store_dir, tmp_path / "b")
    assert quads_of(written_store.store_dir) == before
    assert sorted((written_store.store_dir / "generations").iterdir()) == generations


def test_restore_of_a_missing_directory_is_a_clear_command_line_error(tmp_path: Path) -> None:
    arguments = ["--store", str(tmp_path / "store"), str(tmp_path / "nowhere")]
    result = subprocess.run(copgraph_command("restore", *arguments), capture_output=True, text=True)
    assert result.returncode == 2
    assert "not a directory holding a copgraph backup" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "store").exists()
