"""LLM usage limits in the API: acquire, adjust and release leases; read bucket state."""
