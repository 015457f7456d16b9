-- The change feed: one row per committed change of a run's state, an atom's state, intention
-- or progress, written by triggers in the same transaction as the change itself. SQLite
-- commits one writer at a time, so `seq` grows in commit order and a reader that polls for
-- seq > the last one it saw never misses a row.
CREATE TABLE taskflow_run_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  flow_id TEXT NOT NULL,
  atom TEXT,
  state TEXT NOT NULL,
  intention TEXT,
  progress REAL,
  at INTEGER NOT NULL
);
CREATE INDEX taskflow_run_changes_flow ON taskflow_run_changes (flow_id, seq);

CREATE TRIGGER taskflow_run_changes_flow_insert AFTER INSERT ON taskflow_flows
BEGIN
  INSERT INTO taskflow_run_changes (flow_id, atom, state, intention, progress, at)
  VALUES (NEW.id, NULL, NEW.state, NULL, NULL, COALESCE(json_extract(NEW.record, '$.updatedAt'), 0));
END;

CREATE TRIGGER taskflow_run_changes_flow_update AFTER UPDATE ON taskflow_flows
WHEN OLD.state IS NOT NEW.state
BEGIN
  INSERT INTO taskflow_run_changes (flow_id, atom, state, intention, progress, at)
  VALUES (NEW.id, NULL, NEW.state, NULL, NULL, COALESCE(json_extract(NEW.record, '$.updatedAt'), 0));
END;

CREATE TRIGGER taskflow_run_changes_atom_insert AFTER INSERT ON taskflow_atoms
BEGIN
  INSERT INTO taskflow_run_changes (flow_id, atom, state, intention, progress, at)
  VALUES (
    NEW.flow_id, NEW.name, NEW.state,
    json_extract(NEW.record, '$.intention'), json_extract(NEW.record, '$.progress'),
    COALESCE(json_extract(NEW.record, '$.updatedAt'), 0)
  );
END;

CREATE TRIGGER taskflow_run_changes_atom_update AFTER UPDATE ON taskflow_atoms
WHEN OLD.state IS NOT NEW.state
  OR json_extract(OLD.record, '$.intention') IS NOT json_extract(NEW.record, '$.intention')
  OR json_extract(OLD.record, '$.progress') IS NOT json_extract(NEW.record, '$.progress')
BEGIN
  INSERT INTO taskflow_run_changes (flow_id, atom, state, intention, progress, at)
  VALUES (
    NEW.flow_id, NEW.name, NEW.state,
    json_extract(NEW.record, '$.intention'), json_extract(NEW.record, '$.progress'),
    COALESCE(json_extract(NEW.record, '$.updatedAt'), 0)
  );
END;
