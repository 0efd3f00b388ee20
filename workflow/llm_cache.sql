-- Named queries of the model-answer cache (agents/llm_cache.py, table llm_cache of migration
-- 0003_llm_cache.sql). Each block starts with "-- name: <name>".

-- name: get
-- Counts a hit and returns the entry.
UPDATE llm_cache SET hits = hits + 1, last_hit_at = now()
WHERE key = %(key)s
RETURNING key, provider, model, model_digest, prompt_id, prompt_version, prompt_sha256,
          answer, prompt_tokens, completion_tokens, created_at;

-- name: put
-- A concurrent writer of the same key wins silently.
INSERT INTO llm_cache (key, provider, model, model_digest, prompt_id, prompt_version,
                       prompt_sha256, answer, prompt_tokens, completion_tokens)
VALUES (%(key)s, %(provider)s, %(model)s, %(model_digest)s, %(prompt_id)s,
        %(prompt_version)s, %(prompt_sha256)s, %(answer)s, %(prompt_tokens)s,
        %(completion_tokens)s)
ON CONFLICT (key) DO NOTHING;

-- name: count
SELECT count(*) AS n FROM llm_cache;
