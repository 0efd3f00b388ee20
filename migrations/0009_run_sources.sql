-- What a run read besides its input files, to tell later whether anything changed since
-- ('ktmb run --since', 'ktmb watch'): the SHA-256 of the application's profile file (NULL
-- when it had none) and the digest of the knowledge base its principal could read. Runs
-- stored before this migration have neither: a comparison with them counts both as changed.
-- depends: 0001_runs

ALTER TABLE runs
    ADD COLUMN profile_sha256 text,
    ADD COLUMN kb_digest      text;
