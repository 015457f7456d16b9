-- Bearer tokens of the workflow service: only a SHA-256 hash of each token is kept.
CREATE TABLE taskflow_service_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
