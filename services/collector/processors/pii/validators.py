"""Checksums and range checks that turn a pattern's candidate into a detection."""

from __future__ import annotations

import base64
import ipaddress

import orjson

# IBAN length per country (ISO 13616 registry); an unknown country is no IBAN.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Card number prefixes (IIN ranges) with the lengths each network issues.
_CARD_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (300, 305, frozenset({14, 16, 19})),  # Diners Club
    (36, 36, frozenset({14, 16, 19})),
    (38, 39, frozenset({14, 16, 19})),
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 69, frozenset(range(13, 20))),
)

# Numbers the SSA never issued or publicly voided.
_VOID_SSNS = frozenset({"078051120", "219099999"})

# File extensions that look like a top-level domain after `name@2x.`.
_FILE_EXTENSIONS = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "heic", "avif",
    "mp3", "mp4", "wav", "pdf", "css", "scss", "js", "mjs", "cjs", "ts", "tsx", "jsx", "json",
    "yaml", "yml", "xml", "html", "htm", "txt", "csv", "log", "lock", "toml", "ini", "cfg", "gz",
    "tgz", "whl", "exe", "dll", "bin",
})  # fmt: skip


def is_luhn_valid(digits: str) -> bool:
    """True if a string of ASCII digits passes the Luhn (mod 10) check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _card_prefixes() -> dict[str, frozenset[int]]:
    prefixes: dict[str, frozenset[int]] = {}
    for low, high, lengths in reversed(_CARD_RANGES):  # earlier ranges take precedence
        width = len(str(low))
        for prefix in range(low, high + 1):
            prefixes[str(prefix).zfill(width)] = lengths
    return prefixes


_CARD_PREFIXES = _card_prefixes()


def card_lengths(digits: str) -> frozenset[int]:
    """The lengths a card number starting with these digits can have; empty if no network
    issues numbers with that prefix."""
    for width in (4, 3, 2, 1):
        lengths = _CARD_PREFIXES.get(digits[:width])
        if lengths is not None:
            return lengths
    return frozenset()


def is_card_number(digits: str) -> bool:
    """True if the digits have a card network's prefix and length and pass Luhn."""
    return len(digits) in card_lengths(digits) and is_luhn_valid(digits)


def is_iban(compact: str) -> bool:
    """True if an upper-case IBAN without spaces has its country's length and mod-97 is 1."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def is_ssn(area: str, group: str, serial: str) -> bool:
    """True if the three parts of a US SSN are in ranges the SSA issues."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return area + group + serial not in _VOID_SSNS


def is_ipv6(candidate: str) -> bool:
    """True for a valid IPv6 address with enough content not to be `::1` or `a[1::2]`."""
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = [group for group in candidate.split(":") if group]
    hex_digits = sum(len(group) for group in groups if "." not in group)
    return len(groups) >= 3 or hex_digits >= 5 or "." in candidate


def is_jwt_header(segment: str) -> bool:
    """True if a base64url segment decodes to a JSON object naming an `alg` or `typ`."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return False
    return isinstance(decoded, dict) and ("alg" in decoded or "typ" in decoded)


def is_email_domain(domain: str) -> bool:
    """True unless the domain's last label is a file extension (`icon@2x.png`)."""
    return domain.rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS


def is_random_token(body: str) -> bool:
    """True if a token body mixes upper case, lower case and digits, as generated keys do."""
    return (
        any(char.isdigit() for char in body)
        and any(char.isupper() for char in body)
        and any(char.islower() for char in body)
    )
