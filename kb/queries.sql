-- Every SQL statement of the knowledge base. Blocks start with "-- name: <name>" and are loaded
-- once by kb.store. Statements marked (reader) run as ktmb_reader under row-level security;
-- the others run as the owner and are only reached after a permission check in kb.store.

-- name: reader_setup
-- (reader) One round trip per read transaction: switch to the non-owner role that row-level
-- security binds (set_config('role', ..., true) is SET LOCAL ROLE), set the principal, and let
-- filtered HNSW scans continue until enough rows pass the filters (pgvector 0.8).
SELECT set_config('role', 'ktmb_reader', true) AS role,
       set_config('ktmb.groups', %(groups)s, true) AS groups,
       set_config('ktmb.user', %(user)s, true) AS "user",
       set_config('hnsw.iterative_scan', 'relaxed_order', true) AS iterative_scan,
       set_config('hnsw.ef_search', %(ef_search)s, true) AS ef_search;

-- name: lock_collection
-- Serialise writers of one collection (built-in corpus refresh, concurrent ingests).
SELECT pg_advisory_xact_lock(hashtext('ktmb.kb:' || %(collection)s));

-- name: collection_visible
-- (reader) One collection, if the principal may read it.
SELECT name, embedding_model, dimension, read_groups, public, corpus_digest, created_by
FROM kb_collections WHERE name = %(name)s;

-- name: collections_visible
-- (reader) The collections the principal may read, with their sizes.
SELECT c.name, c.embedding_model, c.dimension, c.read_groups, c.public, c.created_by,
       (SELECT count(*) FROM kb_documents d WHERE d.collection = c.name) AS documents,
       (SELECT count(*) FROM kb_chunks k WHERE k.collection = c.name) AS chunks,
       (SELECT count(*) FROM kb_chunks k WHERE k.collection = c.name
                                          AND k.embedding IS NULL) AS unembedded
FROM kb_collections c ORDER BY c.public DESC, c.name;

-- name: collection_owner_view
-- The collection as stored, for permission checks before a write.
SELECT name, embedding_model, dimension, read_groups, public, corpus_digest, created_by
FROM kb_collections WHERE name = %(name)s;

-- name: collection_create
INSERT INTO kb_collections (name, embedding_model, dimension, read_groups, public, created_by)
VALUES (%(name)s, %(embedding_model)s, %(dimension)s, %(read_groups)s, %(public)s, %(created_by)s)
ON CONFLICT (name) DO NOTHING;

-- name: collection_set_digest
UPDATE kb_collections SET corpus_digest = %(digest)s WHERE name = %(name)s;

-- name: collection_delete
DELETE FROM kb_collections WHERE name = %(name)s;

-- name: documents_visible
-- (reader) Documents of one collection with their chunk counts.
SELECT d.doc_key, d.source_path, d.title, d.version, d.sha256, d.updated_at,
       (SELECT count(*) FROM kb_chunks k WHERE k.document_id = d.id) AS chunks
FROM kb_documents d WHERE d.collection = %(collection)s ORDER BY d.doc_key;

-- name: document_by_path
SELECT id, doc_key, source_path, sha256, version FROM kb_documents
WHERE collection = %(collection)s AND source_path = %(source_path)s;

-- name: document_by_key
SELECT id, doc_key, source_path, sha256, version FROM kb_documents
WHERE collection = %(collection)s AND doc_key = %(doc_key)s;

-- name: document_keys
SELECT doc_key FROM kb_documents WHERE collection = %(collection)s;

-- name: document_insert
INSERT INTO kb_documents (collection, doc_key, source_path, title, sha256, version, metadata,
                          ingested_by)
VALUES (%(collection)s, %(doc_key)s, %(source_path)s, %(title)s, %(sha256)s, 1, %(metadata)s,
        %(ingested_by)s)
RETURNING id, version;

-- name: document_update
UPDATE kb_documents
SET sha256 = %(sha256)s, title = %(title)s, metadata = %(metadata)s, version = version + 1,
    source_path = %(source_path)s, ingested_by = %(ingested_by)s, updated_at = now()
WHERE id = %(id)s
RETURNING id, version;

-- name: document_delete
DELETE FROM kb_documents WHERE id = %(id)s;

-- name: chunks_delete_for_document
DELETE FROM kb_chunks WHERE document_id = %(document_id)s;

-- name: chunk_insert
INSERT INTO kb_chunks (document_id, collection, anchor, ordinal, section, body, frameworks,
                       phases, embedding)
VALUES (%(document_id)s, %(collection)s, %(anchor)s, %(ordinal)s, %(section)s, %(body)s,
        %(frameworks)s, %(phases)s, %(embedding)s);

-- name: chunks_copy
COPY kb_chunks (document_id, collection, anchor, ordinal, section, body, frameworks, phases,
                embedding) FROM STDIN WITH (FORMAT BINARY);

-- name: chunks_unembedded
SELECT k.id, k.section, k.body, d.title FROM kb_chunks k JOIN kb_documents d ON d.id = k.document_id
WHERE k.collection = %(collection)s AND k.embedding IS NULL ORDER BY k.id LIMIT %(limit)s;

-- name: chunk_set_embedding
UPDATE kb_chunks SET embedding = %(embedding)s WHERE id = %(id)s;

-- name: query_words
-- (reader) The words of a query with how many readable chunks contain them (kb_lexeme_stats,
-- limited to %(collections)s when given): the english words of %(text)s (simple = false) and the
-- identifier terms of %(identifiers)s (simple = true), one tsquery per word (a hyphenated
-- identifier keeps its parts AND-ed; its count is that of its rarest part), in order. A last row
-- with word NULL counts the chunks.
WITH words AS (
    SELECT false AS simple, n, plainto_tsquery('english', kb_split_dots(w)) AS x,
           tsvector_to_array(to_tsvector('english', kb_split_dots(w))) AS lexemes
    FROM regexp_split_to_table(%(text)s::text, '\s+') WITH ORDINALITY AS t(w, n)
    UNION ALL
    SELECT true, n, plainto_tsquery('simple', kb_split_dots(w)),
           tsvector_to_array(to_tsvector('simple', kb_split_dots(w)))
    FROM regexp_split_to_table(%(identifiers)s::text, '\s+') WITH ORDINALITY AS t(w, n)
)
SELECT w.simple, w.n, w.x::text AS word,
       (SELECT coalesce(min(f.chunks), 0) FROM (
            SELECT coalesce(sum(s.chunks), 0) AS chunks
            FROM unnest(w.lexemes) AS l(lexeme)
            LEFT JOIN kb_lexeme_stats s
                   ON s.simple = w.simple AND s.lexeme = l.lexeme
                  AND (%(collections)s::text[] IS NULL
                       OR s.collection = ANY (%(collections)s::text[]))
            GROUP BY l.lexeme) f)::bigint AS chunks
FROM words w WHERE numnode(w.x) > 0
UNION ALL
SELECT NULL, 0, NULL, coalesce(sum(s.chunks), 0)::bigint FROM kb_lexeme_stats s
WHERE NOT s.simple AND s.lexeme = ''
  AND (%(collections)s::text[] IS NULL OR s.collection = ANY (%(collections)s::text[]))
ORDER BY 1, 2;

-- name: chunk_count_visible
-- (reader) How many chunks the principal can read (optionally in some collections).
SELECT count(*) AS n FROM kb_chunks
WHERE %(collections)s::text[] IS NULL OR collection = ANY (%(collections)s::text[]);

-- name: chunks_by_anchor
-- (reader) Passages by their stable anchors in one collection (rule citations).
SELECT k.id, k.anchor, k.section, k.body, k.collection, d.doc_key, d.version, d.title,
       d.metadata ->> 'source' AS source, d.metadata ->> 'source_version' AS source_version
FROM kb_chunks k JOIN kb_documents d ON d.id = k.document_id
WHERE k.collection = %(collection)s AND k.anchor = ANY (%(anchors)s::text[])
ORDER BY array_position(%(anchors)s::text[], k.anchor);

-- name: search_text_ranks
-- (reader) The full-text legs of a search, ranked: english full text and 'simple' full text over
-- identifier-like query terms (hostPath, T1611, 5.2.2). kb.store chooses each leg's candidate
-- query (at most %(text_cap)s candidates are ranked) and ranking query from query_words; a leg
-- whose query is NULL is off. Run before the vector leg, so the caller can embed the question
-- while the database ranks text.
SELECT id, rank() OVER (ORDER BY score DESC, id)::int AS rnk
FROM kb_text_ranked(to_tsquery('simple', %(en_candidates)s::text),
                    to_tsquery('simple', %(en_ranking)s::text), false,
                    %(collections)s::text[], %(framework)s::text, %(phase)s::text,
                    %(text_cap)s, %(pool)s)
WHERE %(en_ranking)s::text IS NOT NULL
UNION ALL
SELECT id, rank() OVER (ORDER BY score DESC, id)::int AS rnk
FROM kb_text_ranked(to_tsquery('simple', %(id_candidates)s::text),
                    to_tsquery('simple', %(id_ranking)s::text), true,
                    %(collections)s::text[], %(framework)s::text, %(phase)s::text,
                    %(text_cap)s, %(pool)s)
WHERE %(id_ranking)s::text IS NOT NULL;

-- name: search
-- (reader) Hybrid search: reciprocal rank fusion of the pgvector cosine leg and the ranked
-- full-text legs (search_text_ranks, passed in as parallel arrays of chunk ids and ranks). The
-- vector leg or the text legs can be off (text-only, vector-only). Row-level security limits
-- the vector leg and the final rows to readable collections. Chunks without phases (every
-- ingested document) pass the phase filter, as in kb_text_ranked() (migration 0005).
WITH semantic AS (
    SELECT id, rank() OVER (ORDER BY dist, id) AS rnk FROM (
        SELECT c.id, c.embedding <=> %(qvec)s::halfvec(384) AS dist
        FROM kb_chunks c
        WHERE %(use_vector)s
          AND c.embedding IS NOT NULL
          AND c.collection = ANY (%(vector_collections)s::text[])
          AND (%(framework)s::text IS NULL OR %(framework)s::text = ANY (c.frameworks))
          AND (%(phase)s::text IS NULL OR cardinality(c.phases) = 0
               OR %(phase)s::text = ANY (c.phases))
        ORDER BY c.embedding <=> %(qvec)s::halfvec(384)
        LIMIT %(pool)s) s
),
ranks AS (
    SELECT id, rnk FROM semantic
    UNION ALL
    SELECT t.id, t.rnk FROM unnest(%(text_ids)s::bigint[], %(text_ranks)s::int[]) AS t(id, rnk)
),
fused AS (
    SELECT id, sum(1.0 / (%(rrf_k)s + rnk)) AS score
    FROM ranks GROUP BY id
    ORDER BY score DESC, id
    LIMIT %(k)s
)
SELECT k.id, k.anchor, k.section, k.body, k.collection, d.doc_key, d.version, d.title,
       d.metadata ->> 'source' AS source, d.metadata ->> 'source_version' AS source_version,
       f.score::float8 AS score
FROM fused f
JOIN kb_chunks k ON k.id = f.id
JOIN kb_documents d ON d.id = k.document_id
ORDER BY f.score DESC, k.id;

-- name: bulk_drop_indexes
-- Bulk load (bench/kb_load.py): drop the search indexes, load with COPY, then rebuild them.
DROP INDEX IF EXISTS kb_chunks_embedding_idx, kb_chunks_tsv_idx, kb_chunks_tsv_simple_idx;

-- name: bulk_build_memory
SELECT set_config('maintenance_work_mem', '1GB', true);

-- name: bulk_create_embedding_index
CREATE INDEX IF NOT EXISTS kb_chunks_embedding_idx ON kb_chunks
    USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);

-- name: bulk_create_text_indexes
CREATE INDEX IF NOT EXISTS kb_chunks_tsv_idx ON kb_chunks USING gin (tsv);

-- name: bulk_create_simple_index
CREATE INDEX IF NOT EXISTS kb_chunks_tsv_simple_idx ON kb_chunks USING gin (tsv_simple);

-- name: bulk_analyze
ANALYZE kb_chunks;
