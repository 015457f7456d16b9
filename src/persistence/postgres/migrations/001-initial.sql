-- Runs, their atoms and their logbooks. Applied with search_path set to the store's schema.
-- Each record is stored whole as JSON text in `record` (jsonb would refuse "\u0000" and
-- reorder keys); the other columns copy the fields that queries filter, order or fence on.
-- Ids use the "C" collation so listings order them as JavaScript compares them.

CREATE TABLE taskflow_logbooks (
  id text COLLATE "C" PRIMARY KEY,
  created_at double precision NOT NULL,
  record text NOT NULL
);
CREATE INDEX taskflow_logbooks_position ON taskflow_logbooks (created_at, id);

CREATE TABLE taskflow_flows (
  id text COLLATE "C" PRIMARY KEY,
  logbook_id text COLLATE "C" NOT NULL,
  state text NOT NULL,
  created_at double precision NOT NULL,
  record text NOT NULL,
  -- The lease: NULL owner means nobody holds it; the token only ever goes up (fencing).
  lease_owner text,
  lease_token bigint NOT NULL DEFAULT 0,
  lease_expires_at double precision NOT NULL DEFAULT 0
);
CREATE INDEX taskflow_flows_position ON taskflow_flows (created_at, id);
CREATE INDEX taskflow_flows_logbook ON taskflow_flows (logbook_id, created_at, id);
CREATE INDEX taskflow_flows_state ON taskflow_flows (state, created_at, id);

-- seq keeps the order in which atoms were first saved; an upsert keeps the row and its seq.
CREATE TABLE taskflow_atoms (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  flow_id text COLLATE "C" NOT NULL REFERENCES taskflow_flows (id) ON DELETE CASCADE,
  name text NOT NULL,
  state text NOT NULL,
  record text NOT NULL,
  UNIQUE (flow_id, name)
);
