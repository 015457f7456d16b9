-- An operator's request (suspend, cancel, redrive, ...) pending on a job, as JSON text; NULL
-- when none is. The conductor that runs the job applies it; consuming the job clears it.
ALTER TABLE taskflow_jobs ADD COLUMN request TEXT;
