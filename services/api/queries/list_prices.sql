-- The price overrides of one project, in the order the collector tries them.
SELECT override_id, model, match, provider, input_usd_per_million_tokens,
       output_usd_per_million_tokens, cache_read_usd_per_million_tokens,
       cache_write_usd_per_million_tokens, version, created_at
FROM model_price_overrides WHERE project_id = %(project_id)s
ORDER BY override_id
