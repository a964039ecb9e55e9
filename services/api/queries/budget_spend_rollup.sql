-- Cost and tokens of a project's counted LLM calls in [from, to) from the rollups (ADR 0005:
-- whole days, hours and minutes tiling the range), of one model when %(model)s is not NULL.
SELECT coalesce(sum(r.cost_usd), 0)::numeric AS cost_usd,
       coalesce(sum(r.input_tokens + r.output_tokens), 0)::bigint AS tokens
FROM rollup_tiles(%(from)s, %(to)s) AS t CROSS JOIN LATERAL (
    SELECT * FROM usage_1m WHERE t.level = '1m' AND project_id = %(project_id)s
        AND bucket_start >= t.tile_start AND bucket_start < t.tile_end
    UNION ALL
    SELECT * FROM usage_1h WHERE t.level = '1h' AND project_id = %(project_id)s
        AND bucket_start >= t.tile_start AND bucket_start < t.tile_end
    UNION ALL
    SELECT * FROM usage_1d WHERE t.level = '1d' AND project_id = %(project_id)s
        AND bucket_start >= t.tile_start AND bucket_start < t.tile_end
) AS r
WHERE %(model)s::text IS NULL OR r.model = %(model)s::text
