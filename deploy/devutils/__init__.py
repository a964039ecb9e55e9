"""Developer utilities: realistic LLM telemetry for seeding and benchmarks."""
