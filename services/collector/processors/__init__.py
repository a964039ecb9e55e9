"""LLM processors, one module per processor; the registry lives in `registry`."""
