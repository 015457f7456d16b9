-- Flow definitions of the workflow service: one row per name and version, never changed once
-- stored. seq orders the versions of a name as they were stored (the newest is the default).
CREATE TABLE taskflow_definitions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  document TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (name, version)
);
