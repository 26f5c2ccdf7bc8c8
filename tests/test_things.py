"""Recognising one web page written two ways (`core.things.normalise_url`), as audit imports and contributions do.

The query string is part of a page's identity (WordPress posts, JISCMail lists, forum threads differ only there);
the scheme, a leading www., a trailing slash, case and the fragment are not.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from copgraph.contributions.answers import Answers
from copgraph.contributions.duplicates import duplicates
from copgraph.contributions.known import Known
from copgraph.core.things import normalise_url
from copgraph.ingest.audit_match import CommunityIndex

COMMUNITY = "https://w3id.org/copgraph/id/community/"
PREFIXES = "@prefix cop: <https://w3id.org/copgraph/def/cop#> .\n@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"


@pytest.mark.parametrize(
    "written",
    [
        "https://example.org/forum",
        "http://example.org/forum",
        "https://www.example.org/forum/",
        "HTTPS://Example.ORG/Forum",
        "https://example.org/forum#latest",
        "  https://example.org/forum  ",
    ],
)
def test_the_scheme_www_case_a_trailing_slash_and_the_fragment_do_not_change_the_page(written: str) -> None:
    assert normalise_url(written) == "example.org/forum"


def test_the_query_string_is_kept_because_it_can_name_the_page() -> None:
    assert normalise_url("https://arpce.org.uk/?p=3382") != normalise_url("https://arpce.org.uk/?p=2672")
    assert normalise_url("https://www.jiscmail.ac.uk/cgi-bin/webadmin?A0=ESOL-RESEARCH") == (
        "jiscmail.ac.uk/cgi-bin/webadmin?a0=esol-research"
    )
    assert normalise_url("https://example.org/?p=1") == normalise_url("http://www.example.org?p=1")


def test_an_address_without_a_scheme_is_the_same_page_as_with_one() -> None:
    assert normalise_url("www.example.org/forum/") == normalise_url("https://example.org/forum")


def test_an_address_that_cannot_be_split_is_compared_as_written() -> None:
    assert normalise_url("http://[broken") == "http://[broken"


def test_an_audit_row_and_a_contribution_tell_pages_apart_by_their_query_alike() -> None:
    pages = {"first-post": "https://example.org/?p=1", "second-post": "https://example.org/?p=2"}
    turtle = "".join(
        f"<{COMMUNITY}{slug}> a cop:CommunityOfPractice ; foaf:homepage <{page}> .\n" for slug, page in pages.items()
    )
    index = CommunityIndex(ox.parse(PREFIXES + turtle, format=ox.RdfFormat.TURTLE))
    assert index.match({"name": "Unnamed", "url": "http://www.example.org?p=2#comments"}) == (
        f"{COMMUNITY}second-post",
        None,
    )

    known = Known({}, {}, {}, {}, {}, {s: s for s in pages}, {}, {normalise_url(p): s for s, p in pages.items()}, {})
    answers = Answers(name="Unnamed", slug="unnamed", homepage="http://www.example.org/?p=2")
    assert [flag["community"] for flag in duplicates(answers, known)] == ["second-post"]
