"""Likely duplicates: the published communities a contribution may describe again.

A contribution is never refused for resembling a published community (two networks may share a hashtag); it is
flagged, on its receipt and in the maintainers' review, with the reason: the same homepage, account or hashtag, or a
name at least SIMILAR_NAME alike. Pages and names are compared as `core.things` normalises them, as audit imports
compare them.
"""

from __future__ import annotations

import difflib

from copgraph.contributions.answers import Answers
from copgraph.contributions.known import Known, normalise_account
from copgraph.core.things import hashtag_key, normalise_name, normalise_url

SIMILAR_NAME = 0.85  # difflib ratio at or above which two normalised names are flagged as likely the same community


def duplicates(answers: Answers, known: Known) -> list[dict[str, str]]:
    """Published communities this contribution may duplicate (same homepage, handle or hashtag, or a similar name),
    leaving out the community it says it updates."""
    found: list[dict[str, str]] = []

    def flag(slug: str, reason: str) -> None:
        if slug and slug != answers.updates:
            found.append({"community": slug, "label": known.communities.get(slug, slug), "reason": reason})

    if answers.homepage:
        flag(known.homepages.get(normalise_url(answers.homepage), ""), f"same homepage ({answers.homepage})")
    for platform, account in answers.platforms:
        if account:
            owner = known.handles.get((platform, normalise_account(account)), "")
            flag(owner, f"same {known.platforms[platform]} account ({account})")
    for tag in answers.hashtags:
        for owner in known.hashtags.get(hashtag_key(tag), "").split():
            flag(owner, f"same hashtag ({tag})")
    name = normalise_name(answers.name)
    for slug, label in known.communities.items():
        ratio = difflib.SequenceMatcher(None, name, normalise_name(label)).ratio()
        if ratio >= SIMILAR_NAME:
            flag(slug, f"similar name ({label}, {ratio:.0%} alike)")
    return found
