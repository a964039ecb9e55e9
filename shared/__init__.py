"""LLM Observatory's shared library: the span model, OTLP decoding, config, errors and logging."""
