"""Detection of personal data and secrets in text and nested values, used by `redact`."""
