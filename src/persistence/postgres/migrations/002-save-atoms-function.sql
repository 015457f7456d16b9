-- Writes a batch of atom details in one round trip, all or none. Each row passes the same fence
-- and transition rule as a single write (postgres-statements.ts upsertAtom); the first refused
-- row raises TF001 with its 0-based index, which aborts the whole statement.
-- search_path is pinned to this schema, whatever the calling connection's search_path is.
CREATE FUNCTION taskflow_save_atoms(
  p_flow text,
  p_token bigint,
  p_owner text,
  p_names text[],
  p_states text[],
  p_records text[],
  p_creates boolean[],
  p_froms text[]
) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  n integer;
BEGIN
  FOR i IN 1 .. coalesce(array_length(p_names, 1), 0) LOOP
    INSERT INTO taskflow_atoms AS a (flow_id, name, state, record)
      SELECT f.id, p_names[i], p_states[i], p_records[i] FROM taskflow_flows f
       WHERE f.id = p_flow AND f.lease_token = p_token AND f.lease_owner = p_owner
         AND (p_creates[i] OR EXISTS (
           SELECT 1 FROM taskflow_atoms x WHERE x.flow_id = p_flow AND x.name = p_names[i]))
       FOR SHARE OF f
    ON CONFLICT (flow_id, name) DO UPDATE SET state = EXCLUDED.state, record = EXCLUDED.record
     WHERE a.state = ANY (string_to_array(p_froms[i], ','));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 1 THEN
      RAISE EXCEPTION 'taskflow atom write % refused', i - 1 USING ERRCODE = 'TF001';
    END IF;
  END LOOP;
END
$$;
