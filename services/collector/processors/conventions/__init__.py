"""Per-convention extraction of LLM call fields from span attributes and events."""
