"""A contribution's answers: plain text in, checked values or field errors out.

The first step of a contribution (see the package docstring): every answer of the form (or of a JSON body) is
checked here, field by field, before anything is built from it: plain text only (no markup, control, text-direction
or noncharacter code points, valid Unicode), within its length, on one line unless it is a description or a reason,
and naming only the themes, platforms, organisations, statuses and communities the store publishes (`known.py`). A
refusal is a ContributionError mapping each form field to messages a person can act on, never echoing more than a
field's limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyoxigraph as ox

from copgraph.contributions.known import Known
from copgraph.core.things import platform_id, slugify

ROLES = ("hostedBy", "sponsoredBy", "fundedBy", "supportedBy")
FIELDS = (
    "name",
    "description",
    "homepage",
    "platforms",
    "hashtags",
    "themes",
    "organisation",
    "role",
    "founded",
    "status",
    "governance",
    "source",
    "updates",
)
# Longest accepted answer per field, in characters (per item for lists).
LIMITS = {
    "name": 200,
    "description": 2000,
    "homepage": 500,
    "platforms": 500,
    "hashtags": 100,
    "source": 500,
    "founded": 4,
    "reason": 2000,
}
DEFAULT_LIMIT = 200  # every other field: known values are short, and a refusal never echoes more than this
MULTI_LINE = ("description", "reason")  # every other answer is one line
MAX_ITEMS = 20  # platform rows, hashtags, themes

TAG = re.compile(r"<\s*(?:[/!?]|[a-zA-Z])")  # a tag, closed or not, a comment, a declaration


def _noncharacter(text: str) -> bool:
    """True if the text holds a Unicode noncharacter (U+FDD0..U+FDEF, or U+xFFFE / U+xFFFF in any plane)."""
    return any(0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE for code in map(ord, text))


# What plain text may not hold, each with the field error it gets (checked in this order).
UNACCEPTABLE: tuple[tuple[Callable[[str], object], str], ...] = (
    (re.compile(r"[\ud800-\udfff]").search, "Not valid Unicode text (a lone surrogate): send the text as UTF-8."),
    (re.compile("\ufffd").search, "Part of this could not be read as UTF-8 (U+FFFD): send the text as UTF-8."),
    (TAG.search, "HTML tags are not accepted here: write plain text, with no '<' before a letter, '/', '!' or '?'."),
    (
        re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]").search,
        "Control characters are not accepted: write plain text.",
    ),
    (
        re.compile("[\u202a-\u202e\u2066-\u2069]").search,
        "Text direction controls (U+202A to U+202E, U+2066 to U+2069) are not accepted: they can disguise what the "
        "text says.",
    ),
    (_noncharacter, "Unicode noncharacters (such as U+FFFF) are not accepted: write plain text."),
)
LINE_BREAK = re.compile(r"[\t\n\r]")
# Invisible characters and direction marks (zero-width space and joiners, LRM/RLM, the Arabic letter mark, word joiner
# and invisible operators, the BOM): they make two names, handles or hashtags that look the same differ, or hide text.
# Refused in one-line fields; a description may need a joiner (scripts and emoji use U+200C/U+200D).
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # javascript:, data:, file:... (http(s) is checked first)
HASHTAG = re.compile(r"#?([A-Za-z0-9_]+)")


class ContributionError(Exception):
    """A contribution that cannot be accepted or reviewed; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))
        self.errors = errors


@dataclass
class Answers:
    """A contribution's answers, each checked: plain text, within limits, naming only known values."""

    name: str
    slug: str
    description: str = ""
    homepage: str = ""
    platforms: list[tuple[str, str]] = field(default_factory=list)  # (platform slug, handle or URL; may be "")
    hashtags: list[str] = field(default_factory=list)  # display forms, "#UKFEchat"
    themes: list[str] = field(default_factory=list)
    organisation: str = ""
    role: str = ""
    founded: str = ""
    status: str = "unknown"
    governance: str = "unknown"
    source: str = ""
    updates: str = ""


def _plain(name: str, value: str, errors: dict[str, list[str]]) -> str:
    """The value stripped; an error (and "") unless it is plain text within the field's length, on one line unless
    the field is MULTI_LINE: no markup, no control, text-direction or noncharacter code points, valid Unicode."""
    text = value.strip()
    limit = LIMITS.get(name, DEFAULT_LIMIT)
    if len(text) > limit:
        errors.setdefault(name, []).append(f"Too long: at most {limit} characters (this has {len(text)}).")
        return ""
    for pattern, message in UNACCEPTABLE:
        if pattern(text):
            errors.setdefault(name, []).append(message)
            return ""
    if name not in MULTI_LINE and LINE_BREAK.search(text):
        errors.setdefault(name, []).append("Write this on one line, without tabs or line breaks.")
        return ""
    if name not in MULTI_LINE and (found := INVISIBLE.search(text)):
        errors.setdefault(name, []).append(
            f"Invisible characters and direction marks (here U+{ord(found.group()):04X}) are not accepted: they make "
            "text that looks the same differ. Retype it without them."
        )
        return ""
    return text


def _http_url(name: str, value: str, errors: dict[str, list[str]]) -> str:
    """An http(s) URL that is also a valid IRI (so it can name a thing in RDF), or "" with an error."""
    text = _plain(name, value, errors)
    if not text:
        return ""
    try:
        ox.NamedNode(text)
        problem = "" if text.startswith(("http://", "https://")) and urlsplit(text).netloc else "not an http(s) URL"
    except ValueError as error:  # not an IRI (Oxigraph says why), or a host urlsplit cannot read
        problem = str(error)
    if problem:
        shown = text if len(text) <= 80 else text[:80] + "..."
        errors.setdefault(name, []).append(f"Not a web address ({problem}): give a full http(s):// URL, not {shown!r}.")
        return ""
    return text


NAMED_AT_MOST = 30  # a refusal lists this many known values; long lists (communities) are on GET /contribute


def named(allowed: Mapping[str, str]) -> str:
    """Known values as a person reads them, each by its label with the slug a JSON client sends: "Maths (maths)";
    at most NAMED_AT_MOST of them, so that a message stays readable however much the data grows."""
    shown = [f"{label} ({slug})" if label and label != slug else slug for slug, label in allowed.items()]
    if len(shown) <= NAMED_AT_MOST:
        return ", ".join(shown)
    rest = len(shown) - NAMED_AT_MOST
    return ", ".join(shown[:NAMED_AT_MOST]) + f" and {rest} more (GET /contribute lists them all)"


def _one_of(name: str, value: str, allowed: dict[str, str], errors: dict[str, list[str]], what: str) -> str:
    text = _plain(name, value, errors)
    if text and text not in allowed:
        errors.setdefault(name, []).append(f"Unknown {what} {text!r}. Known: {named(allowed)}.")
        return ""
    return text


def _first(raw: Mapping[str, list[str]], name: str) -> str:
    values = raw.get(name) or [""]
    return values[0] or ""


def check_answers(raw: Mapping[str, list[str]], known: Known) -> Answers:
    """Answers from raw values (field -> list of strings); raises ContributionError with every field's errors.

    `platforms` items are "platform-slug<TAB>handle-or-URL" (the account may be empty); `hashtags` items may each
    hold several tags separated by spaces or commas."""
    errors: dict[str, list[str]] = {}
    name = _plain("name", _first(raw, "name"), errors)
    if not name and "name" not in errors:
        errors["name"] = ["A name is required."]
    updates = _one_of("updates", _first(raw, "updates"), known.communities, errors, "community")
    slug = updates or slugify(name)
    if name and not slug:
        errors.setdefault("name", []).append(
            "The name needs at least one letter a-z or digit 0-9: they make the community's address."
        )
    elif not updates and slug in known.communities:
        errors.setdefault("name", []).append(
            f"A community with this name ({known.communities[slug]}, /id/community/{slug}) is already published: "
            "to change it, choose it under 'updates'; otherwise give a more specific name."
        )
    answers = Answers(name=name, slug=slug)
    answers.description = _plain("description", _first(raw, "description"), errors)
    answers.homepage = _http_url("homepage", _first(raw, "homepage"), errors)
    answers.source = _http_url("source", _first(raw, "source"), errors)
    if not answers.source and "source" not in errors:
        errors["source"] = ["A source is required: the http(s) address of a public page that shows these facts."]
    answers.platforms = _platforms(raw.get("platforms", []), known, errors)
    answers.hashtags = _hashtags(raw.get("hashtags", []), errors)
    answers.themes = []
    if len(raw.get("themes", [])) > MAX_ITEMS:
        errors.setdefault("themes", []).append(f"At most {MAX_ITEMS} themes.")
    for theme in raw.get("themes", [])[:MAX_ITEMS]:
        checked = _one_of("themes", theme, known.themes, errors, "theme")
        if checked and checked not in answers.themes:
            answers.themes.append(checked)
    if not answers.themes and "themes" not in errors:
        errors["themes"] = ["Choose at least one theme."]
    answers.organisation = _one_of(
        "organisation", _first(raw, "organisation"), known.organisations, errors, "organisation"
    )
    answers.role = _one_of("role", _first(raw, "role"), dict.fromkeys(ROLES, ""), errors, "role")
    if answers.organisation and not answers.role and "role" not in errors:
        errors["role"] = [
            "Say how the organisation supports the community: whether it hosts, sponsors, funds or otherwise "
            f"supports it ({', '.join(ROLES)})."
        ]
    founded = _plain("founded", _first(raw, "founded"), errors)
    if founded and not re.fullmatch(r"(19[5-9][0-9]|20[0-9][0-9]|2100)", founded):
        errors.setdefault("founded", []).append("Give the year founded as four digits between 1950 and 2100.")
    answers.founded = founded
    answers.status = _one_of("status", _first(raw, "status") or "unknown", known.statuses, errors, "status")
    answers.governance = _one_of(
        "governance", _first(raw, "governance") or "unknown", known.governance, errors, "governance type"
    )
    answers.updates = updates
    if errors:
        raise ContributionError(errors)
    return answers


def _platforms(rows: list[str], known: Known, errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Rows "slug<TAB>account" (account optional): known platforms only, at most MAX_ITEMS."""
    found: list[tuple[str, str]] = []
    if len(rows) > MAX_ITEMS:
        errors.setdefault("platforms", []).append(f"At most {MAX_ITEMS} platforms.")
        return found
    for row in rows:
        slug, _, account = row.partition("\t")
        slug = platform_id(_plain("platforms", slug, errors))
        account = _plain("platforms", account, errors)
        if not slug and not account:
            continue
        if not slug:
            errors.setdefault("platforms", []).append(
                f"The handle or address {account[:80]!r} has no platform: choose the platform it is on."
            )
            continue
        if slug not in known.platforms:
            errors.setdefault("platforms", []).append(f"Unknown platform {slug!r}. Known: {named(known.platforms)}.")
            continue
        if account.startswith(("http://", "https://")):
            account = _http_url("platforms", account, errors)
            if not account:
                continue
        elif OTHER_SCHEME.match(account) or account.startswith("//"):
            errors.setdefault("platforms", []).append(
                f"Give the handle (e.g. @name) or a full http(s):// address, not {account[:80]!r}."
            )
            continue
        elif " " in account:
            errors.setdefault("platforms", []).append(f"A handle has no spaces: {account!r}.")
            continue
        found.append((slug, account))
    return found


def _hashtags(values: list[str], errors: dict[str, list[str]]) -> list[str]:
    tags: list[str] = []
    if len(values) > MAX_ITEMS:
        errors.setdefault("hashtags", []).append(f"At most {MAX_ITEMS} hashtags.")
        return tags
    for value in values:
        for word in re.split(r"[\s,]+", _plain("hashtags", value, errors)):
            if not word:
                continue
            match = HASHTAG.fullmatch(word)
            if not match or len(word) > LIMITS["hashtags"]:
                errors.setdefault("hashtags", []).append(
                    f"Not a hashtag: {word!r}. Write '#' and letters a-z, digits or '_' (e.g. #UKFEchat)."
                )
            elif "#" + match.group(1) not in tags:
                tags.append("#" + match.group(1))
    if len(tags) > MAX_ITEMS:
        errors.setdefault("hashtags", []).append(f"At most {MAX_ITEMS} hashtags.")
    return tags


def check_reason(reason: str, required: bool) -> str:
    """A maintainer's reason for a review, checked as any answer is; ContributionError if it is not plain text (or is
    missing when `required`, as for a rejection)."""
    errors: dict[str, list[str]] = {}
    text = _plain("reason", reason or "", errors)
    if required and not text and "reason" not in errors:
        errors["reason"] = ["A reason is required to reject a contribution; the contributor sees it on the receipt."]
    if errors:
        raise ContributionError(errors)
    return text
