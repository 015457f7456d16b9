-- Flow definitions of the workflow service: one row per name and version, never changed once
-- stored. seq orders the versions of a name as they were stored (the newest is the default).
-- The document is kept as the text that was stored, so it reads back byte for byte.
CREATE TABLE taskflow_definitions (
  seq BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  document TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (name, version)
);
