-- A new price override of one project.
INSERT INTO model_price_overrides (project_id, model, match, provider,
                                   input_usd_per_million_tokens, output_usd_per_million_tokens,
                                   cache_read_usd_per_million_tokens,
                                   cache_write_usd_per_million_tokens, version)
VALUES (%(project_id)s, %(model)s, %(match)s, %(provider)s, %(input_usd_per_million_tokens)s,
        %(output_usd_per_million_tokens)s, %(cache_read_usd_per_million_tokens)s,
        %(cache_write_usd_per_million_tokens)s, %(version)s)
RETURNING override_id, model, match, provider, input_usd_per_million_tokens,
          output_usd_per_million_tokens, cache_read_usd_per_million_tokens,
          cache_write_usd_per_million_tokens, version, created_at
