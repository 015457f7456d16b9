-- Jobs, live conductors, and the event log that stands in for notifications (SQLite has no
-- push: boards poll taskflow_job_events for rows newer than the last one they saw).

CREATE TABLE taskflow_jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  flow_name TEXT NOT NULL,
  flow_version TEXT NOT NULL,
  store TEXT NOT NULL,
  priority INTEGER NOT NULL,
  -- NULLs are distinct, so only jobs posted with a key can collide.
  idempotency_key TEXT UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  owner TEXT,
  lease_expires_at INTEGER,
  -- The fencing token only ever goes up: one more at each claim.
  token INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome TEXT,
  dead_letter_reason TEXT
);
-- Claim order within a state: the best UNCLAIMED job is the first row of this index.
CREATE INDEX taskflow_jobs_claim_order ON taskflow_jobs (state, priority DESC, created_at, id);
CREATE INDEX taskflow_jobs_lease ON taskflow_jobs (state, lease_expires_at);
CREATE INDEX taskflow_jobs_position ON taskflow_jobs (created_at, id);

CREATE TABLE taskflow_conductors (
  name TEXT PRIMARY KEY,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  meta TEXT NOT NULL
);

CREATE TABLE taskflow_job_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  job_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  state TEXT NOT NULL,
  at INTEGER NOT NULL
);
