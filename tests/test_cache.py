"""The per-version cache every read model and the SPARQL result cache use (copgraph.core.cache): bounded in bytes,
least recently used out first, emptied by a new dataset version."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

import pytest

from copgraph.core.cache import VersionedCache, deep_size
from copgraph.query.executor import QueryOutcome
from copgraph.web.http.context import ResultCache


def test_a_value_is_kept_for_its_version() -> None:
    cache: VersionedCache[str] = VersionedCache(1000)
    assert cache.get("v1", "a") is None
    assert cache.put("v1", "a", "answer", size=10)
    assert cache.get("v1", "a") == "answer"


def test_a_new_version_empties_the_cache() -> None:
    cache: VersionedCache[str] = VersionedCache(1000)
    cache.get("v1", "a")
    cache.put("v1", "a", "old", size=10)
    assert cache.get("v2", "a") is None
    assert len(cache) == 0 and cache.bytes == 0
    assert cache.get("v1", "a") is None, "going back to a version does not bring its values back"


def test_a_value_made_from_another_version_is_not_kept() -> None:
    cache: VersionedCache[str] = VersionedCache(1000)
    cache.get("v2", "a")
    assert not cache.put("v1", "a", "stale", size=10), "a slow request that read v1 before a write made v2"
    assert cache.get("v2", "a") is None


def test_the_sum_of_sizes_never_exceeds_the_bound() -> None:
    cache: VersionedCache[int] = VersionedCache(100)
    cache.get("v1", 0)
    for key in range(50):
        cache.put("v1", key, key, size=30)
        assert cache.bytes <= 100
    assert len(cache) == 3 and cache.bytes == 90
    assert [cache.get("v1", key) for key in (47, 48, 49)] == [47, 48, 49]


def test_the_least_recently_used_value_goes_first() -> None:
    cache: VersionedCache[str] = VersionedCache(30)
    cache.get("v1", "a")
    for key in ("a", "b", "c"):
        cache.put("v1", key, key, size=10)
    assert cache.get("v1", "a") == "a"  # now b is the least recently used
    cache.put("v1", "d", "d", size=10)
    assert cache.get("v1", "b") is None
    assert [cache.get("v1", key) for key in ("a", "c", "d")] == ["a", "c", "d"]


def test_replacing_a_value_counts_its_size_once() -> None:
    cache: VersionedCache[str] = VersionedCache(100)
    cache.get("v1", "a")
    cache.put("v1", "a", "first", size=40)
    cache.put("v1", "a", "second", size=60)
    assert cache.bytes == 60 and cache.get("v1", "a") == "second"


def test_a_value_larger_than_the_largest_allowed_is_not_kept_and_evicts_nothing() -> None:
    cache: VersionedCache[str] = VersionedCache(100, largest=25)
    cache.get("v1", "small")
    cache.put("v1", "small", "small", size=20)
    assert not cache.put("v1", "big", "big", size=26)
    assert cache.get("v1", "big") is None and cache.get("v1", "small") == "small"


def test_a_cache_of_zero_bytes_keeps_nothing() -> None:
    cache: VersionedCache[str] = VersionedCache(0)
    cache.get("v1", "a")
    assert not cache.put("v1", "a", "a", size=1)
    assert cache.get("v1", "a") is None


def test_get_or_make_makes_once_per_version() -> None:
    cache: VersionedCache[list[int]] = VersionedCache(10_000)
    made = []

    def make() -> list[int]:
        made.append(1)
        return [1, 2, 3]

    assert cache.get_or_make("v1", "model", make) == [1, 2, 3]
    assert cache.get_or_make("v1", "model", make) == [1, 2, 3]
    assert len(made) == 1
    cache.get_or_make("v2", "model", make)
    assert len(made) == 2


def test_a_read_model_too_large_to_keep_is_still_answered_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    cache: VersionedCache[str] = VersionedCache(10, setting="COPGRAPH_MODEL_CACHE_BYTES")
    with caplog.at_level(logging.WARNING, logger="copgraph.core.cache"):
        assert cache.get_or_make("v1", "index", lambda: "x" * 100) == "x" * 100
        cache.get_or_make("v1", "index", lambda: "x" * 100)
    assert len(cache) == 0
    assert len(caplog.records) == 1 and "raise COPGRAPH_MODEL_CACHE_BYTES" in caplog.records[0].getMessage()


def test_deep_size_counts_a_body_by_its_length() -> None:
    body = b"x" * 100_000
    assert sys.getsizeof(body) <= deep_size(body) < 100_000 + 100


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


def test_deep_size_follows_attributes_and_containers_and_counts_shared_objects_once() -> None:
    shared = "y" * 10_000
    parent = Node("p", [Node(shared), Node(shared)])
    assert 10_000 < deep_size(parent) < 12_000
    parent.children[0].children.append(parent)  # a cycle ends the walk, it does not loop
    assert deep_size(parent) < 12_000


def test_deep_size_does_not_count_classes_or_functions() -> None:
    assert deep_size([len, Node, deep_size]) == sys.getsizeof([len, Node, deep_size])


def test_the_result_cache_is_bounded_in_bytes_and_keeps_no_answer_over_an_eighth() -> None:
    cache = ResultCache(8 * 1024 * 1024)

    def answer(size: int) -> QueryOutcome:
        return QueryOutcome("solutions", "v1", b"x" * size, "application/sparql-results+json")

    cache.get("v1", ("query", 0))
    cache.put(("huge",), answer(1024 * 1024 + 1))
    assert cache.get("v1", ("huge",)) is None, "over an eighth of the bound"
    for n in range(40):  # 40 distinct 0.9 MiB answers, as 40 distinct 31 MB answers once grew workers to 800 MB
        cache.put(("query", n), answer(900 * 1024))
    assert cache.answers.bytes <= 8 * 1024 * 1024
    assert cache.get("v1", ("query", 39)) is not None and cache.get("v1", ("query", 0)) is None
