-- Jobs and live conductors. Applied with search_path set to the board's schema.
-- Times are epoch milliseconds from the writers' clocks (as the run store's leases are).

CREATE TABLE taskflow_jobs (
  id text PRIMARY KEY,
  name text NOT NULL,
  flow_name text NOT NULL,
  flow_version text NOT NULL,
  -- JSON as text, not jsonb, so values come back exactly as they went in (key order too).
  store text NOT NULL,
  priority integer NOT NULL,
  -- NULLs are distinct, so only jobs posted with a key can collide.
  idempotency_key text UNIQUE,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('UNCLAIMED', 'CLAIMED', 'COMPLETE', 'DEAD_LETTER')),
  owner text,
  lease_expires_at bigint,
  -- The fencing token only ever goes up: one more at each claim.
  token bigint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  outcome text,
  dead_letter_reason text
);
-- Claim order over the jobs that may be claimable; finished jobs stay out of the index.
CREATE INDEX taskflow_jobs_claim_order ON taskflow_jobs (priority DESC, created_at, id)
  WHERE state IN ('UNCLAIMED', 'CLAIMED');
CREATE INDEX taskflow_jobs_position ON taskflow_jobs (created_at, id);

CREATE TABLE taskflow_conductors (
  name text PRIMARY KEY,
  last_seen_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  meta text NOT NULL
);
