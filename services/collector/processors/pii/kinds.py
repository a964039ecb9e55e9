"""The kinds of personal data and secrets the detectors report, in priority order."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Kind(StrEnum):
    """A detection rule; on overlapping detections the one declared first wins."""

    PRIVATE_KEY = "private_key"
    URL_CREDENTIALS = "url_credentials"
    SLACK_WEBHOOK = "slack_webhook"
    JWT = "jwt"
    ANTHROPIC_KEY = "anthropic_key"
    OPENAI_KEY = "openai_key"
    GITHUB_TOKEN = "github_token"
    SLACK_TOKEN = "slack_token"
    GOOGLE_API_KEY = "google_api_key"
    AWS_ACCESS_KEY_ID = "aws_access_key_id"
    AWS_SECRET_KEY = "aws_secret_key"
    BEARER_TOKEN = "bearer_token"
    EMAIL = "email"
    IBAN = "iban"
    CREDIT_CARD = "credit_card"
    SSN = "ssn"
    PHONE = "phone"
    IPV6 = "ipv6"
    IPV4 = "ipv4"

    @property
    def label(self) -> str:
        """The upper-case name used in replacements, e.g. `CREDIT_CARD`."""
        return self.name


ALL_KINDS = frozenset(Kind)
PRIORITY = {kind: index for index, kind in enumerate(Kind)}


class Match(NamedTuple):
    """A detection: `text[start:end]` is the sensitive part (a URL's password, not the URL)."""

    start: int
    end: int
    kind: Kind
