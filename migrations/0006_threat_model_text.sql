-- Threat models are stored as their JSON text. A jsonb value cannot hold an object or array
-- whose elements total 256 MB or more ("total size of jsonb array elements exceeds the
-- maximum"), which a model within the input limits can reach (the README's "Safety limits"
-- estimates it); text holds up to 1 GB. ktmb never queries inside a stored model: it reads it
-- whole and validates it.
-- depends: 0001_runs

ALTER TABLE threat_models ALTER COLUMN model TYPE text USING model::text;
