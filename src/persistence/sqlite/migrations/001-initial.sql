-- Runs, their atoms and their logbooks. Each record is stored whole as JSON text in `record`;
-- the other columns copy the fields that queries filter, order or fence on.

CREATE TABLE taskflow_logbooks (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX taskflow_logbooks_position ON taskflow_logbooks (created_at, id);

CREATE TABLE taskflow_flows (
  id TEXT PRIMARY KEY,
  logbook_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  record TEXT NOT NULL,
  -- The lease: NULL owner means nobody holds it; the token only ever goes up (fencing).
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX taskflow_flows_position ON taskflow_flows (created_at, id);
CREATE INDEX taskflow_flows_logbook ON taskflow_flows (logbook_id, created_at, id);
CREATE INDEX taskflow_flows_state ON taskflow_flows (state, created_at, id);

-- seq keeps the order in which atoms were first saved; an upsert keeps the row and its seq.
CREATE TABLE taskflow_atoms (
  seq INTEGER PRIMARY KEY,
  flow_id TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  record TEXT NOT NULL,
  UNIQUE (flow_id, name)
);
