"""All detectors behind one call: keys and tokens, e-mail, IPv6, and the number scan."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from .kinds import PRIORITY, Kind, Match
from .scan import SCAN_KINDS, scan
from .validators import is_email_domain, is_ipv6, is_jwt_header, is_random_token

# Checks a regex match; returns the (start, end) to redact, or None to reject it.
Check = Callable[[str, re.Match[str]], tuple[int, int] | None]

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_EMAIL_LOCAL_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"
)
MIN_LENGTH = 6  # `a@b.io`; nothing shorter can hold a detection
_SECRET_KEY_NAME = re.compile(r"(?i)secret[_\-. ]?(?:access[_\-. ]?)?key")
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+]{40}")


class _Literal(NamedTuple):
    kind: Kind
    gate: str  # a character the text must hold: far cheaper to test than a substring
    triggers: tuple[str, ...]  # then one of these must occur (`~`: in any case) for the regex
    pattern: re.Pattern[str]
    check: Check


def _starts_token(text: str, start: int) -> bool:
    return start == 0 or text[start - 1] not in _TOKEN_CHARS


def _whole(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    return match.span() if _starts_token(text, match.start()) else None


def _group(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    return match.span(1)


def _random_body(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    # `sk-` + a kebab-case word is a CSS class or a slug, not a key.
    return _whole(text, match) if is_random_token(match.group(1)) else None


def _jwt(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    return _whole(text, match) if is_jwt_header(match.group(1)) else None


def _bearer(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    token = match.group(1)
    has_digit = any(char.isdigit() for char in token)
    is_word = _starts_token(text, match.start())
    return (
        match.span(1) if is_word and has_digit and any(char.isalpha() for char in token) else None
    )


def _literal(kind: Kind, gate: str, triggers: str, pattern: str, check: Check) -> _Literal:
    return _Literal(kind, gate, tuple(triggers.split()), re.compile(pattern), check)


# Each pattern starts with a literal where it can: the regex engine then skips ahead fast.
# AWS key ids and Google API keys start with a capital letter: the scan finds those.
_LITERALS = (
    _literal(
        Kind.PRIVATE_KEY, "-", "-----BEGIN",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]{0,65536}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
        r"|[A-Za-z0-9+/=\s\\:,\-]*)",  # cut off before its END line: up to the end of the body
        _whole,
    ),
    _literal(
        Kind.URL_CREDENTIALS, "@", "://",
        r"://[^\s/?#:\"'<>]{0,128}:([^\s/?#\"'<>]{1,256})@(?=[\w\[])",
        _group,
    ),
    _literal(
        Kind.SLACK_WEBHOOK, "/", "hooks.slack.com",
        r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{8,}",
        _whole,
    ),
    _literal(
        Kind.JWT, "J", "eyJ",
        r"(eyJ[A-Za-z0-9_\-]{6,})\.ey[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]*",
        _jwt,
    ),
    _literal(Kind.ANTHROPIC_KEY, "-", "sk-", r"sk-ant-[A-Za-z0-9_\-]{20,}", _whole),
    _literal(
        Kind.OPENAI_KEY, "-", "sk-",
        r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?([A-Za-z0-9_\-]{20,})",
        _random_body,
    ),
    _literal(
        Kind.GITHUB_TOKEN, "_", "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
        r"gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])|github_pat_[A-Za-z0-9_]{22,255}",
        _whole,
    ),
    _literal(
        Kind.SLACK_TOKEN, "-", "xox",
        r"xox[abeprs]-(?=[A-Za-z0-9\-]*[0-9])[A-Za-z0-9\-]{10,}",
        _whole,
    ),
    _literal(
        Kind.AWS_SECRET_KEY, "", "~secret",
        r"(?i:secret)[_\-. ]?(?i:access[_\-. ]?)?(?i:key)"
        r"(?:[\"']?\s*(?:[:=]|=>)\s*[\"']?|\s+(?:is\s+)?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _group,
    ),
    _literal(
        Kind.BEARER_TOKEN, "", "~bearer",
        r"(?i:bearer)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)(?![A-Za-z0-9\-._~+/=])",
        _bearer,
    ),
)  # fmt: skip
_EMAIL_DOMAIN = re.compile(
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![\w\-]|\.[A-Za-z0-9])"
)
# An AWS secret written next to its access key id (`AKIA... / wJalr...`).
_AWS_SECRET_AFTER_ID = re.compile(
    r"[\s,;:|/\"'=]{1,20}([A-Za-z0-9+][A-Za-z0-9/+]{39})(?![A-Za-z0-9/+=])"
)
_HEX = "[0-9A-Fa-f]"
_IPV4_TAIL = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
_IPV6_END = r"(?![\w:]|\.[0-9])"
# Compressed form, matched from where the walk back from its `::` stops.
_IPV6_COMPRESSED = re.compile(
    rf"(?:{_HEX}{{0,4}}:){{2,7}}(?:{_IPV4_TAIL}|{_HEX}{{1,4}})?{_IPV6_END}"
)
# Full form: eight groups (or six and an IPv4 tail); the scan trick of `scan.py`.
_IPV6_FULL = re.compile(
    rf"{_HEX}(?<![\w:.].)(?<=(?=({_HEX}{{1,4}}(?::{_HEX}{{1,4}}){{5}}"
    rf"(?::{_HEX}{{1,4}}:{_HEX}{{1,4}}|:{_IPV4_TAIL}){_IPV6_END})).)"
)
# Three hex groups between colons: rare outside addresses, and found with a literal's speed.
_IPV6_FULL_HINT = re.compile(rf":{_HEX}{{1,4}}:{_HEX}{{1,4}}:{_HEX}{{1,4}}:")
_IPV6_CHARS = frozenset("0123456789ABCDEFabcdef:")


def _find_emails(text: str) -> Iterator[Match]:
    # Search for what follows the `@` (a literal the engine finds fast) and walk back for
    # the local part, at most 64 characters as RFC 5321 allows.
    for found in _EMAIL_DOMAIN.finditer(text):
        at = found.start()
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL_CHARS:
            start -= 1
        while start < at and text[start] in "._%+-":
            start += 1
        if (
            start < at
            and is_email_domain(found.group(1))
            and text[start:at] != "git"  # `git@github.com`: an SSH remote, not an address
            and not _is_url_password(text, start)
        ):
            yield Match(start, found.end(), Kind.EMAIL)


def _is_url_password(text: str, start: int) -> bool:
    # In `scheme://user:password@host` the "local part" is the password, not an address.
    if start == 0 or text[start - 1] != ":":
        return False
    before = text[max(0, start - 300) : start].split()
    return bool(before) and "://" in before[-1]


def _find_ipv6(text: str) -> Iterator[Match]:
    # Each `::` belongs to a run of hex digits and colons; an address can only start where
    # the run does, so one attempt per run.
    position = text.find("::")
    while position >= 0:
        start = position
        while start > 0 and text[start - 1] in _IPV6_CHARS:
            start -= 1
        stop = position + 2
        while stop < len(text) and text[stop] in _IPV6_CHARS:
            stop += 1
        found = None
        if start == 0 or (text[start - 1] not in _TOKEN_CHARS and text[start - 1] != "."):
            found = _IPV6_COMPRESSED.match(text, start)
        if found is not None and (match := _ipv6_match(found.group(), start)) is not None:
            yield match
            stop = max(stop, match.end)
        position = text.find("::", stop)
    if _IPV6_FULL_HINT.search(text) is not None:
        for found in _IPV6_FULL.finditer(text):
            if (match := _ipv6_match(found.group(1), found.start())) is not None:
                yield match


def _ipv6_match(candidate: str, start: int) -> Match | None:
    if candidate.endswith(":") and not candidate.endswith("::"):
        candidate = candidate[:-1]  # `fe80::1:` ends a clause, not the address
    return Match(start, start + len(candidate), Kind.IPV6) if is_ipv6(candidate) else None


def _find_all(text: str, kinds: frozenset[Kind]) -> Iterator[Match]:
    # Substring tests cost as much as a tenth of the whole scan: each runs at most once,
    # and case-blind ones run once on a lower-cased copy.
    seen: dict[str, bool] = {}
    lowered = ""
    for detector in _LITERALS:
        if detector.kind not in kinds or detector.gate not in text:
            continue
        for trigger in detector.triggers:
            is_present = seen.get(trigger)
            if is_present is None:
                if trigger.startswith("~"):
                    lowered = lowered or text.lower()
                    is_present = trigger[1:] in lowered
                else:
                    is_present = trigger in text
                seen[trigger] = is_present
            if is_present:
                break
        else:
            continue
        for found in detector.pattern.finditer(text):
            span = detector.check(text, found)
            if span is not None:
                yield Match(span[0], span[1], detector.kind)
    if Kind.EMAIL in kinds and "@" in text:
        yield from _find_emails(text)
    if Kind.IPV6 in kinds and ":" in text:
        yield from _find_ipv6(text)
    if not kinds.isdisjoint(SCAN_KINDS):
        for match in scan(text, kinds):
            yield match
            if match.kind is Kind.AWS_ACCESS_KEY_ID and Kind.AWS_SECRET_KEY in kinds:
                secret = _AWS_SECRET_AFTER_ID.match(text, match.end)
                if secret is not None:
                    yield Match(*secret.span(1), Kind.AWS_SECRET_KEY)


def find_matches(text: str, kinds: frozenset[Kind]) -> list[Match]:
    """Detections of the enabled kinds in `text`, sorted and disjoint; overlapping ones merge
    under the higher-priority kind."""
    if len(text) < MIN_LENGTH or (len(text) < 20 and text.isalpha()):
        return []
    found = sorted(_find_all(text, kinds))
    if len(found) < 2:
        return found
    merged = [found[0]]
    for match in found[1:]:
        last = merged[-1]
        if match.start < last.end:
            # Redact the union, so that neither detection can leak through the other.
            kind = min(last.kind, match.kind, key=PRIORITY.__getitem__)
            merged[-1] = Match(last.start, max(last.end, match.end), kind)
        else:
            merged.append(match)
    return merged


def is_aws_secret_field(key: str, text: str) -> bool:
    """True for a 40-character AWS secret held under a key such as `aws_secret_access_key`;
    once JSON is parsed the key is the only context left."""
    return (
        _SECRET_KEY_NAME.search(key) is not None and _AWS_SECRET_VALUE.fullmatch(text) is not None
    )
