-- The change feed: one row per committed change of a run's state, an atom's state, intention
-- or progress, written by a trigger in the same transaction as the change, which also sends a
-- NOTIFY carrying the run's id (delivered on commit). Applied with search_path set to the
-- store's schema; the trigger names its table through TG_TABLE_SCHEMA, since the writers'
-- search_path may differ.
--
-- Sequence numbers are taken before commit, so transactions may commit out of seq order. Each
-- row keeps its transaction id, and readers take only rows of transactions older than every
-- transaction still running (the snapshot's xmin), in (xid, seq) order: a row can then never
-- appear behind a position a reader has passed.
CREATE TABLE taskflow_run_changes (
  seq bigserial PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  flow_id text COLLATE "C" NOT NULL,
  atom text,
  state text NOT NULL,
  intention text,
  progress double precision,
  at bigint NOT NULL
);
CREATE INDEX taskflow_run_changes_position ON taskflow_run_changes (xid, seq);
CREATE INDEX taskflow_run_changes_flow ON taskflow_run_changes (flow_id, xid, seq);

CREATE FUNCTION taskflow_record_run_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  fresh json := NEW.record::json;
  flow text;
BEGIN
  IF TG_TABLE_NAME = 'taskflow_flows' THEN
    IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state THEN
      RETURN NULL;
    END IF;
    flow := NEW.id;
    EXECUTE format(
      'INSERT INTO %I.taskflow_run_changes (flow_id, state, at) VALUES ($1, $2, $3)',
      TG_TABLE_SCHEMA
    ) USING flow, NEW.state, COALESCE((fresh->>'updatedAt')::double precision, 0)::bigint;
  ELSE
    IF TG_OP = 'UPDATE'
      AND OLD.state IS NOT DISTINCT FROM NEW.state
      AND (OLD.record::json->>'intention') IS NOT DISTINCT FROM (fresh->>'intention')
      AND (OLD.record::json->>'progress') IS NOT DISTINCT FROM (fresh->>'progress') THEN
      RETURN NULL;
    END IF;
    flow := NEW.flow_id;
    EXECUTE format(
      'INSERT INTO %I.taskflow_run_changes (flow_id, atom, state, intention, progress, at) VALUES ($1, $2, $3, $4, $5, $6)',
      TG_TABLE_SCHEMA
    ) USING flow, NEW.name, NEW.state, fresh->>'intention',
      (fresh->>'progress')::double precision,
      COALESCE((fresh->>'updatedAt')::double precision, 0)::bigint;
  END IF;
  PERFORM pg_notify('taskflow_run_changes', flow);
  RETURN NULL;
END
$$;

CREATE TRIGGER taskflow_run_changes_flows AFTER INSERT OR UPDATE ON taskflow_flows
  FOR EACH ROW EXECUTE FUNCTION taskflow_record_run_change();
CREATE TRIGGER taskflow_run_changes_atoms AFTER INSERT OR UPDATE ON taskflow_atoms
  FOR EACH ROW EXECUTE FUNCTION taskflow_record_run_change();
