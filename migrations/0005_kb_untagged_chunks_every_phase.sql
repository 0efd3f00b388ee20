-- A chunk tagged with no phase applies to every phase. Only the built-in corpus tags its
-- passages with phases; the documents users ingest (Markdown, text, PDF, HTML) carry none, and
-- the phase filter of kb_text_ranked() (0004) dropped every one of them from every run's
-- retrieval: a team's own guidance never reached a prompt. The filter now keeps untagged chunks
-- (the vector leg, in kb/queries.sql, does the same). Otherwise the function is 0004's.
-- depends: 0004_kb_text_stats

CREATE OR REPLACE FUNCTION kb_text_ranked(candidates tsquery, ranking tsquery,
                                          use_simple boolean, collections text[],
                                          framework text, phase text, cap integer,
                                          lim integer)
    RETURNS TABLE (id bigint, score real)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    SET enable_seqscan = off
    AS $$
        SELECT id, score FROM (
            SELECT m.id, ts_rank_cd(m.tsv, ranking) AS score FROM (
                SELECT c.id, c.tsv FROM public.kb_chunks c
                WHERE NOT use_simple AND c.tsv @@ candidates
                  AND c.collection = ANY ((SELECT public.kb_readable_collections())::text[])
                  AND (collections IS NULL OR c.collection = ANY (collections))
                  AND (framework IS NULL OR framework = ANY (c.frameworks))
                  AND (phase IS NULL OR cardinality(c.phases) = 0 OR phase = ANY (c.phases))
                LIMIT cap) m
            UNION ALL
            SELECT m.id, ts_rank_cd(m.tsv, ranking) AS score FROM (
                SELECT c.id, c.tsv_simple AS tsv FROM public.kb_chunks c
                WHERE use_simple AND c.tsv_simple @@ candidates
                  AND c.collection = ANY ((SELECT public.kb_readable_collections())::text[])
                  AND (collections IS NULL OR c.collection = ANY (collections))
                  AND (framework IS NULL OR framework = ANY (c.frameworks))
                  AND (phase IS NULL OR cardinality(c.phases) = 0 OR phase = ANY (c.phases))
                LIMIT cap) m) t
        ORDER BY score DESC, id LIMIT lim $$;
