-- How an engine opens a run and how it writes a step that also changes the flow, each in one
-- round trip. search_path is pinned to this schema, as for taskflow_save_atoms (migration 002).

-- Creates the logbook and the run when new, takes the lease (plain when p_fence is NULL, else
-- fenced by a job claim's token: the same rules as postgres-statements.ts acquireLease and
-- acquireFencedLease), and when granted reads the run under it. Each statement sees what the
-- ones before it did, and a concurrent creator's row once it committed. When refused, returns
-- the holder with granted = false and no records.
CREATE FUNCTION taskflow_open_run(
  p_flow text,
  p_logbook text,
  p_state text,
  p_created double precision,
  p_record text,
  p_book_created double precision,
  p_book_record text,
  p_owner text,
  p_ttl bigint,
  p_fence bigint,
  p_carried double precision
) RETURNS TABLE (
  granted boolean,
  lease_owner text,
  lease_token bigint,
  lease_expires_at double precision,
  flow_record text,
  atom_records text[]
) LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
  now_ms bigint;
BEGIN
  INSERT INTO taskflow_logbooks (id, created_at, record) VALUES (p_logbook, p_book_created, p_book_record)
    ON CONFLICT (id) DO NOTHING;
  INSERT INTO taskflow_flows (id, logbook_id, state, created_at, record)
    VALUES (p_flow, p_logbook, p_state, p_created, p_record) ON CONFLICT (id) DO NOTHING;
  now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  IF p_fence IS NULL THEN
    UPDATE taskflow_flows f SET lease_owner = p_owner, lease_token = f.lease_token + 1,
           lease_expires_at = now_ms + p_ttl
     WHERE f.id = p_flow AND f.lease_expires_at <> p_carried
       AND (f.lease_owner IS NULL OR f.lease_expires_at <= now_ms);
  ELSE
    UPDATE taskflow_flows f SET lease_owner = p_owner, lease_token = p_fence,
           lease_expires_at = p_carried
     WHERE f.id = p_flow
       AND (f.lease_token < p_fence OR (f.lease_token = p_fence AND f.lease_owner = p_owner));
  END IF;
  granted := FOUND;
  SELECT f.lease_owner, f.lease_token, f.lease_expires_at INTO lease_owner, lease_token, lease_expires_at
    FROM taskflow_flows f WHERE f.id = p_flow;
  IF granted THEN
    SELECT f.record, COALESCE((SELECT array_agg(a.record ORDER BY a.seq)
                                 FROM taskflow_atoms a WHERE a.flow_id = f.id), '{}')
      INTO flow_record, atom_records FROM taskflow_flows f WHERE f.id = p_flow;
  END IF;
  RETURN NEXT;
END
$$;

-- Writes a batch of atom details (through taskflow_save_atoms, which raises TF001 on the first
-- refused one), then, when p_flow_record is not NULL, the flow detail, then, when p_release,
-- gives the lease up (a run carried by a job keeps its marker): all or none. A flow write the
-- fence refuses raises TF002.
CREATE FUNCTION taskflow_save_run(
  p_flow text,
  p_token bigint,
  p_owner text,
  p_names text[],
  p_states text[],
  p_records text[],
  p_creates boolean[],
  p_froms text[],
  p_logbook text,
  p_flow_state text,
  p_flow_record text,
  p_release boolean,
  p_carried double precision
) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM taskflow_save_atoms(p_flow, p_token, p_owner, p_names, p_states, p_records, p_creates, p_froms);
  IF p_flow_record IS NOT NULL THEN
    UPDATE taskflow_flows SET logbook_id = p_logbook, state = p_flow_state, record = p_flow_record
     WHERE id = p_flow AND lease_token = p_token AND lease_owner = p_owner;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'taskflow flow write refused' USING ERRCODE = 'TF002';
    END IF;
  END IF;
  IF p_release THEN
    UPDATE taskflow_flows
       SET lease_owner = NULL,
           lease_expires_at = CASE WHEN lease_expires_at = p_carried THEN lease_expires_at ELSE 0 END
     WHERE id = p_flow AND lease_token = p_token AND lease_owner = p_owner;
  END IF;
END
$$;
