"""Which canned queries the benchmark puts under load (benchmarks/mixes.py, for benchmarks/run.py): by a time cut,
or, with --mixes-like, the same ones as an earlier run, so that two runs on hosts of different speed measure the same
requests."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.mixes import earlier_exclusions, exclusion_reasons

FAST = {"copgraph": {"median_s": 0.02}, "oxigraph": {"median_s": 0.018}}
SLOW = {"copgraph": {"median_s": 3.5}, "oxigraph": {"median_s": 2.9}}
FAILS = {"copgraph": {"status": None, "error": "ReadTimeout"}, "oxigraph": {"median_s": 1.0}}


def test_the_time_cut_without_an_earlier_run() -> None:
    assert exclusion_reasons("q", FAST, 2.0, None) == []
    assert exclusion_reasons("q", SLOW, 2.0, None) == [
        "3.50 s on copgraph (over 2.0 s)",
        "2.90 s on oxigraph (over 2.0 s)",
    ]
    assert exclusion_reasons("q", FAILS, 2.0, None) == ["fails on copgraph (None: ReadTimeout)"]


def test_an_earlier_run_decides_instead_of_the_clock() -> None:
    earlier = {"left-out-then": "2.50 s on copgraph (over 2.0 s)"}
    # Slow today but in the earlier run's mix: it stays in.
    assert exclusion_reasons("kept-then", SLOW, 2.0, earlier) == []
    # Fast today but left out then: it stays out, saying why.
    assert exclusion_reasons("left-out-then", FAST, 2.0, earlier) == [
        "left out by the earlier run (--mixes-like): 2.50 s on copgraph (over 2.0 s)"
    ]
    # A query that cannot be answered now is out whatever the earlier run did.
    assert exclusion_reasons("kept-then", FAILS, 2.0, earlier) == ["fails on copgraph (None: ReadTimeout)"]


def test_earlier_exclusions_are_read_per_size(tmp_path: Path) -> None:
    results = {
        "sizes": [
            {"size": "1000", "excluded_queries": {"community-pairs": "18.21 s on copgraph (over 2.0 s)"}},
            {"size": "10000", "excluded_queries": {}},
            {"size": "1000000", "error": "interrupted"},
        ]
    }
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    assert earlier_exclusions(path) == {
        "1000": {"community-pairs": "18.21 s on copgraph (over 2.0 s)"},
        "10000": {},
    }
    assert earlier_exclusions(None) == {}


def test_the_committed_full_run_can_be_followed() -> None:
    committed = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "20261123T195426Z.json"
    exclusions = earlier_exclusions(committed)
    assert set(exclusions) == {"1000", "10000", "100000", "1000000"}
    assert "community-pairs" in exclusions["1000"]
