"""A Postgres trigger that refuses any UPDATE moving a call's status backwards.

The service layer already applies statuses monotonically; this makes it the database's
guarantee too, so no code path (admin edit, raw SQL, a future bug) can regress a call.
"""
from django.db import migrations

RANK = """
CREATE OR REPLACE FUNCTION voiceops_call_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'scheduled' THEN 0 WHEN 'queued' THEN 1 WHEN 'ringing' THEN 2
    WHEN 'in-progress' THEN 3 WHEN 'forwarding' THEN 4 WHEN 'ended' THEN 5
    ELSE -1 END
$$;

CREATE OR REPLACE FUNCTION voiceops_call_status_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF voiceops_call_status_rank(NEW.status) < voiceops_call_status_rank(OLD.status) THEN
    RAISE EXCEPTION 'call % status cannot move from % back to %', OLD.vapi_id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER call_status_forward_only
  BEFORE UPDATE OF status ON calls_call
  FOR EACH ROW EXECUTE FUNCTION voiceops_call_status_forward_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS call_status_forward_only ON calls_call;
DROP FUNCTION IF EXISTS voiceops_call_status_forward_only();
DROP FUNCTION IF EXISTS voiceops_call_status_rank(text);
"""


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [migrations.RunSQL(RANK, REVERSE)]
