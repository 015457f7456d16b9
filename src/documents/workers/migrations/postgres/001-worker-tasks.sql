-- Tasks of flow documents that external workers do, claimed over the service's HTTP API. One
-- row per atom and kind (execute or revert); round is the engine's attempt of the atom, so a
-- retried atom queues its row again. token fences the worker holding the lease; seq orders
-- claims oldest first.
CREATE TABLE taskflow_worker_tasks (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL NOT NULL,
  key TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('execute', 'revert')),
  run_id TEXT NOT NULL,
  atom TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  round BIGINT NOT NULL,
  inputs TEXT NOT NULL,
  execute_result TEXT,
  state TEXT NOT NULL CHECK (state IN ('QUEUED', 'CLAIMED', 'COMPLETED', 'FAILED')),
  attempt BIGINT NOT NULL DEFAULT 0,
  token BIGINT NOT NULL DEFAULT 0,
  worker TEXT,
  lease_expires_at BIGINT,
  result TEXT,
  failure TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX taskflow_worker_tasks_ready ON taskflow_worker_tasks (type, state, seq);
