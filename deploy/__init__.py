"""Ways to run LLM Observatory: local processes for development and tests."""
