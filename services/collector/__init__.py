"""The collector: OTLP receivers, LLM processors and the hand-off to storage."""
