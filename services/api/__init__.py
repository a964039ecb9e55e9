"""The query API: REST reads over stored traces, with caching, keys and rate limits."""
