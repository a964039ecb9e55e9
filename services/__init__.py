"""The three LLM Observatory processes: collector, storage and api."""
