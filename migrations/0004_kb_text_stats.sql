-- Bounded full-text search at scale. PostgreSQL has no ranked GIN scan, so ranking every match of
-- a common word (40,000+ of 100,000 chunks) cost seconds. Two pieces keep the text legs bounded:
--
-- kb_lexeme_stats: per collection and text configuration, how many chunks contain each lexeme
-- (lexeme '' counts every chunk). Statement-level triggers with transition tables keep it exact
-- on INSERT, COPY, UPDATE and DELETE. kb.store reads it (under the same row-level security as the
-- chunks) to pick the rarest query words as the candidate query, without probing the index.
--
-- kb_text_ranked(): like kb_text_candidates() (0002), but takes the candidate query and the
-- ranking query apart and ranks at most `cap` candidates, so the cost no longer grows with the
-- number of matches.
-- depends: 0002_kb

CREATE TABLE kb_lexeme_stats (
    collection text NOT NULL REFERENCES kb_collections (name) ON DELETE CASCADE,
    simple     boolean NOT NULL,  -- false: the english tsv column, true: tsv_simple
    lexeme     text NOT NULL,     -- '' counts every chunk of the collection
    chunks     bigint NOT NULL,
    PRIMARY KEY (collection, simple, lexeme)
);

-- The (simple, lexeme) pairs one chunk contributes, each once.
CREATE FUNCTION kb_chunk_lexemes(tsv tsvector, tsv_simple tsvector)
    RETURNS TABLE (simple boolean, lexeme text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT false, ''
          UNION ALL SELECT false, u.lexeme FROM unnest(tsv) u
          UNION ALL SELECT true, u.lexeme FROM unnest(tsv_simple) u $$;

CREATE FUNCTION kb_lexeme_stats_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    INSERT INTO public.kb_lexeme_stats AS s (collection, simple, lexeme, chunks)
    SELECT n.collection, l.simple, l.lexeme, count(*)
    FROM new_rows n, public.kb_chunk_lexemes(n.tsv, n.tsv_simple) l
    GROUP BY 1, 2, 3
    ON CONFLICT (collection, simple, lexeme) DO UPDATE SET chunks = s.chunks + excluded.chunks;
    RETURN NULL;
END
$$;

-- Deletions only decrement (a collection deleted in the same statement cascades its statistics
-- away; an INSERT here would break the foreign key). Rows that reach 0 are kept: harmless.
CREATE FUNCTION kb_lexeme_stats_delete() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    UPDATE public.kb_lexeme_stats s SET chunks = s.chunks - d.n
    FROM (SELECT o.collection, l.simple, l.lexeme, count(*) AS n
          FROM old_rows o, public.kb_chunk_lexemes(o.tsv, o.tsv_simple) l
          GROUP BY 1, 2, 3) d
    WHERE s.collection = d.collection AND s.simple = d.simple AND s.lexeme = d.lexeme;
    RETURN NULL;
END
$$;

-- Updates (embeddings are set by UPDATE) only count when the text or the collection changed.
CREATE FUNCTION kb_lexeme_stats_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
    AS $$
BEGIN
    UPDATE public.kb_lexeme_stats s SET chunks = s.chunks - d.n
    FROM (SELECT o.collection, l.simple, l.lexeme, count(*) AS n
          FROM old_rows o JOIN new_rows n ON n.id = o.id,
               public.kb_chunk_lexemes(o.tsv, o.tsv_simple) l
          WHERE (o.collection, o.tsv, o.tsv_simple)
                IS DISTINCT FROM (n.collection, n.tsv, n.tsv_simple)
          GROUP BY 1, 2, 3) d
    WHERE s.collection = d.collection AND s.simple = d.simple AND s.lexeme = d.lexeme;
    INSERT INTO public.kb_lexeme_stats AS s (collection, simple, lexeme, chunks)
    SELECT n.collection, l.simple, l.lexeme, count(*)
    FROM new_rows n JOIN old_rows o ON o.id = n.id,
         public.kb_chunk_lexemes(n.tsv, n.tsv_simple) l
    WHERE (o.collection, o.tsv, o.tsv_simple) IS DISTINCT FROM (n.collection, n.tsv, n.tsv_simple)
    GROUP BY 1, 2, 3
    ON CONFLICT (collection, simple, lexeme) DO UPDATE SET chunks = s.chunks + excluded.chunks;
    RETURN NULL;
END
$$;

CREATE TRIGGER kb_chunks_lexeme_stats_insert AFTER INSERT ON kb_chunks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kb_lexeme_stats_insert();
CREATE TRIGGER kb_chunks_lexeme_stats_delete AFTER DELETE ON kb_chunks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kb_lexeme_stats_delete();
CREATE TRIGGER kb_chunks_lexeme_stats_update AFTER UPDATE ON kb_chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kb_lexeme_stats_update();

INSERT INTO kb_lexeme_stats (collection, simple, lexeme, chunks)
SELECT c.collection, l.simple, l.lexeme, count(*)
FROM kb_chunks c, kb_chunk_lexemes(c.tsv, c.tsv_simple) l
GROUP BY 1, 2, 3;

ALTER TABLE kb_lexeme_stats ENABLE ROW LEVEL SECURITY;
CREATE POLICY kb_lexeme_stats_read ON kb_lexeme_stats FOR SELECT TO ktmb_reader
    USING (collection = ANY ((SELECT kb_readable_collections())::text[]));
GRANT SELECT ON kb_lexeme_stats TO ktmb_reader;
GRANT EXECUTE ON FUNCTION kb_chunk_lexemes(tsvector, tsvector) TO ktmb_reader;

-- Text candidates for the reader, ranked: the rows matching `candidates` (at most `cap` of them,
-- found through the GIN index) ranked by ts_rank_cd against `ranking`. SECURITY DEFINER for the
-- same reason as kb_text_candidates(): it applies the row-level security predicate itself so that
-- the GIN index can be used. Sequential scans are switched off inside: with the query only known
-- at run time the planner could otherwise pick a scan that reads every chunk to find `cap`
-- matches of a rare word.
CREATE FUNCTION kb_text_ranked(candidates tsquery, ranking tsquery, use_simple boolean,
                               collections text[], framework text, phase text, cap integer,
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
                  AND (phase IS NULL OR phase = ANY (c.phases))
                LIMIT cap) m
            UNION ALL
            SELECT m.id, ts_rank_cd(m.tsv, ranking) AS score FROM (
                SELECT c.id, c.tsv_simple AS tsv FROM public.kb_chunks c
                WHERE use_simple AND c.tsv_simple @@ candidates
                  AND c.collection = ANY ((SELECT public.kb_readable_collections())::text[])
                  AND (collections IS NULL OR c.collection = ANY (collections))
                  AND (framework IS NULL OR framework = ANY (c.frameworks))
                  AND (phase IS NULL OR phase = ANY (c.phases))
                LIMIT cap) m) t
        ORDER BY score DESC, id LIMIT lim $$;

REVOKE ALL ON FUNCTION kb_text_ranked(tsquery, tsquery, boolean, text[], text, text, integer,
                                      integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kb_text_ranked(tsquery, tsquery, boolean, text[], text, text, integer,
                                         integer) TO ktmb_reader;
