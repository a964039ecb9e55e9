"""The one character-level pass: cards, IBANs, SSNs, phones, IPv4, and capital-led keys."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from .kinds import Kind, Match
from .validators import IBAN_LENGTHS, card_lengths, is_iban, is_luhn_valid, is_ssn

# Checks a candidate text[start:end]; returns where the detection ends, or None.
Check = Callable[[str, int, int], int | None]

# [0-9] rather than \d throughout: an ASCII range is several times faster than the Unicode
# digit category in the scan loop, and non-ASCII digits are no card or phone number anyway.
_D = "[0-9]"
# Right boundary: not glued to a word, and not the prefix of a longer number (`1.5`, `10:30`).
_END = r"(?![\w\-]|[.,:/][0-9])"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_SEP = r"[ .\-]"
_PHONE_LABEL = re.compile(
    r"\b(?:phone|tel|mobile|cell|fax|whatsapp|sms|call(?: me)?|text me)\b"
    r"[^\w\n]{0,3}(?:(?:number|no|nr|is|at|on)\b[^\w\n]{0,3}){0,3}\Z"
)
_SSN_LABEL = re.compile(
    r"\b(?:ssn|social security(?: number| no)?|ss#)"
    r"[^\w\n]{0,3}(?:(?:is|number|no)\b[^\w\n]{0,3}){0,2}\Z"
)
_GROUPS = re.compile(r"\+?[0-9]+")
_SSN_SHAPE = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
# Dotted numbers that are versions or document sections, not addresses.
_VERSION_LABEL = re.compile(
    r"\b(?:version|ver|build|release|firmware|fw|section|sec|chapter|ch|clause|"
    r"paragraph|para|figure|fig|table|step|item|rule|article|art|§)[\s:=.]{0,3}\Z"
)


class _Branch(NamedTuple):
    kind: Kind
    leads: str  # which first characters it can start with: "0" digit, "A" capital, "+", "("
    pattern: str
    check: Check


def _count_digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _label_before(text: str, start: int, label: re.Pattern[str]) -> bool:
    return label.search(text[max(0, start - 40) : start].lower()) is not None


def _iban_stop(text: str, start: int, end: int) -> int | None:
    # Greedy groups may run into the next word: keep exactly the country's length.
    length = IBAN_LENGTHS.get(text[start : start + 2], 0)
    seen = 0
    for index in range(start, end):
        if text[index] != " ":
            seen += 1
            if seen == length:
                stop = index + 1
                return stop if stop == end or text[stop] == " " else None
    return None


def _check_iban(text: str, start: int, end: int) -> int | None:
    stop = _iban_stop(text, start, end)
    return stop if stop is not None and is_iban(text[start:stop].replace(" ", "")) else None


def _check_key(text: str, start: int, end: int) -> int | None:
    return end


def _check_ssn(text: str, start: int, end: int) -> int | None:
    parts = text[start:end].split("-")
    return end if is_ssn(*parts) else None


def _check_card(text: str, start: int, end: int) -> int | None:
    # The pattern is greedy: a card followed by another number needs trailing groups cut,
    # so each group end is a candidate, longest first.
    digits = "".join(char for char in text[start:end] if char.isdigit())
    lengths = card_lengths(digits)
    if not lengths:
        return None
    stops: list[tuple[int, int]] = []
    count = 0
    for index in range(start, end):
        if text[index].isdigit():
            count += 1
        else:
            stops.append((count, index))
    stops.append((count, end))
    for length, stop in reversed(stops):
        if length in lengths and is_luhn_valid(digits[:length]):
            return stop
    return None


def _check_nanp(text: str, start: int, end: int) -> int | None:
    candidate = text[start:end]
    if "(" in candidate:
        return end
    # 415-555-0132 or 415.555.0132, not a mix such as a date followed by a number.
    body = candidate[2:] if candidate[0] == "1" and candidate[1] in " .-" else candidate
    return end if body[3] == body[7] else None


def _check_international(text: str, start: int, end: int) -> int | None:
    candidate = text[start:end]
    dots = candidate.count(".")
    # `+3.14159265` is a number; dotted phone numbers have at least three groups.
    if not 8 <= _count_digits(candidate) <= 15 or dots == 1:
        return None
    # After a country code the trunk 0 is dropped (`+44 20`, not `+44 020`) except in Italy;
    # `DE00 3704 0044 0532 0130 00` holds no phone number.
    groups = _GROUPS.findall(candidate.replace("(0)", ""))  # `+49 (0)30`: the optional trunk
    country = groups[0].removeprefix("+").removeprefix("00")
    is_trunk_zero = len(groups) > 1 and groups[1].startswith("0") and country != "39"
    return None if is_trunk_zero else end


def _check_national(text: str, start: int, end: int) -> int | None:
    candidate = text[start:end]
    separators = {char for char in candidate if char in " -"}
    if not 9 <= _count_digits(candidate) <= 12 or len(separators) != 1:
        return None
    return None if _SSN_SHAPE.fullmatch(candidate) else end  # `078-05-1120`: a void SSN


def _check_ipv4(text: str, start: int, end: int) -> int | None:
    # Loopback and "any" name no one: `server.address` 127.0.0.1 stays readable.
    if text.startswith(("127.", "0.0.0.0"), start) or _label_before(text, start, _VERSION_LABEL):
        return None
    return end


def _check_labelled_ssn(text: str, start: int, end: int) -> int | None:
    if not _label_before(text, start, _SSN_LABEL):
        return None
    digits = text[start:end].replace(" ", "")
    return end if is_ssn(digits[:3], digits[3:5], digits[5:]) else None


def _check_labelled_phone(text: str, start: int, end: int) -> int | None:
    # A bare digit run is an id or an amount unless a label says it is a phone number.
    return end if _label_before(text, start, _PHONE_LABEL) else None


# In priority order: at one position the first branch whose check passes wins.
_BRANCHES = (
    _Branch(Kind.AWS_ACCESS_KEY_ID, "A", r"A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])", _check_key),
    _Branch(Kind.GOOGLE_API_KEY, "A", r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", _check_key),
    _Branch(
        Kind.IBAN,
        "A",
        r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,8}(?: ?[A-Z0-9]{1,3})?(?!\w)",
        _check_iban,
    ),
    _Branch(Kind.SSN, "0", rf"{_D}{{3}}-{_D}{{2}}-{_D}{{4}}{_END}", _check_ssn),
    _Branch(Kind.CREDIT_CARD, "0", rf"{_D}(?:[ \-]?{_D}){{12,18}}{_END}", _check_card),
    _Branch(
        Kind.PHONE,
        "0(",
        rf"(?:1{_SEP}?)?(?:\([2-9]{_D}{{2}}\) ?|[2-9]{_D}{{2}}{_SEP})"
        rf"[2-9]{_D}{{2}}{_SEP}{_D}{{4}}{_END}",
        _check_nanp,
    ),
    _Branch(
        Kind.PHONE,
        "+",
        rf"(?>\+{_D}++(?:{_SEP}?\({_D}++\){_SEP}?{_D}++|{_SEP}{_D}++){{0,6}}){_END}",
        _check_international,
    ),
    _Branch(
        Kind.PHONE,
        "0",
        rf"(?>00[1-9]{_D}{{0,2}}(?:{_SEP}\(?{_D}++\)?){{2,6}}){_END}",
        _check_international,
    ),
    _Branch(
        Kind.PHONE,
        "0(",
        rf"(?>(?:\(0[1-9]{_D}{{0,3}}\)|0[1-9]{_D}{{0,3}})(?:[ \-]{_D}++){{1,4}}){_END}",
        _check_national,
    ),
    _Branch(Kind.IPV4, "0", rf"{_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.[0-9]|-[A-Za-z])", _check_ipv4),
    _Branch(
        Kind.SSN, "0", rf"(?:{_D}{{9}}|{_D}{{3}} {_D}{{2}} {_D}{{4}}){_END}", _check_labelled_ssn
    ),
    _Branch(Kind.PHONE, "0", rf"{_D}{{7,15}}{_END}", _check_labelled_phone),
)
_COMPILED = tuple(re.compile(branch.pattern) for branch in _BRANCHES)
SCAN_KINDS = frozenset(branch.kind for branch in _BRANCHES)

# The scan consumes one leading character so that the regex engine can skip ahead with a
# character-set test; the lookbehind then re-examines that character's position: it must
# not continue a word or a number, and one branch must match from there (captured by name).
# Branches are grouped by their first character, each group behind a guard that most
# text fails at once: every digit-led branch needs four digits in a row, bar separators.
_GUARDS = {
    "0": r"[0-9](?:[ .\-()]{0,2}[0-9]){3}",
    "A": "[A-Z][A-Z0-9]",
    "+": r"\+[0-9(]",
    "(": r"\([0-9]",
}
_SCAN = re.compile(
    r"[0-9+(A-Z](?<![\w.+\-].)(?<=(?="
    + "|".join(
        f"(?={guard})(?:"
        + "|".join(
            f"(?P<b{index}_{number}>{branch.pattern})"
            for index, branch in enumerate(_BRANCHES)
            if lead in branch.leads
        )
        + ")"
        for number, (lead, guard) in enumerate(_GUARDS.items())
    )
    + r").)"
)


def scan(text: str, kinds: frozenset[Kind]) -> Iterator[Match]:
    """Yield the scan's detections of the enabled kinds, left to right, not overlapping."""
    position = 0
    search = _SCAN.search
    while (found := search(text, position)) is not None:
        start = found.start()
        name = found.lastgroup or "b0_0"
        first = int(name[1:].split("_")[0])
        match = _check_at(text, start, first, found.end(name), kinds)
        if match is None:
            position = start + 1
            if _BRANCHES[first].kind is Kind.IBAN:
                # A real country's IBAN length with a bad checksum is a mistyped IBAN: its
                # digit groups are not phone numbers either.
                position = _iban_stop(text, start, found.end(name)) or position
        else:
            yield match
            position = match.end


def _check_at(text: str, start: int, first: int, end: int, kinds: frozenset[Kind]) -> Match | None:
    # The scan found the first branch whose pattern matches here; if its check fails, the
    # later branches get their turn at the same position.
    branch = _BRANCHES[first]
    if branch.kind in kinds and (stop := branch.check(text, start, end)) is not None:
        return Match(start, stop, branch.kind)
    for index in range(first + 1, len(_BRANCHES)):
        branch = _BRANCHES[index]
        if branch.kind not in kinds:
            continue
        candidate = _COMPILED[index].match(text, start)
        if (
            candidate is not None
            and (stop := branch.check(text, start, candidate.end())) is not None
        ):
            return Match(start, stop, branch.kind)
    return None
