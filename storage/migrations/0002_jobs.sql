-- Schema version 2: the durable job queue every node takes work from, and
-- the state of the generation scheduler.
--
-- A job is claimed with a lease (owner and expiry, on the database's clock):
-- the owner renews it while it works, and any node may take a job over once
-- its lease expired, so a node that dies loses no work. At most one job per
-- (kind, user) waits at a time, so a burst of requests runs once.

CREATE TYPE job_state AS ENUM
  ('pending', 'running', 'done', 'failed', 'cancelled');

CREATE TABLE jobs (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL
    CHECK (kind IN ('generate', 'sync_contacts', 'sync_calendar')),
  user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- What the kind needs beyond the user (a file path, credentials, ...).
  payload          jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(payload) = 'object'),
  state            job_state NOT NULL DEFAULT 'pending',
  -- Not claimed before this instant (retry backoff, scheduler spread).
  run_at           timestamptz NOT NULL DEFAULT now(),
  -- Attempts started (a claim counts one; a graceful release takes it back).
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 5
    CHECK (max_attempts BETWEEN 1 AND 100),
  -- Why the latest attempt failed (kept when a later attempt succeeds).
  last_error       text,
  -- The node running the job ("host:pid") and until when it may.
  lease_owner      text CHECK (lease_owner <> ''),
  lease_expires_at timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- Start of the latest attempt.
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- A claim past max_attempts is never made: an expired lease on the last
  -- attempt fails the job instead of running it again.
  CHECK (attempts BETWEEN 0 AND max_attempts),
  -- Running exactly when leased, and a lease has both its parts.
  CHECK ((state = 'running')
         = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
  CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
  CHECK (state <> 'running' OR (started_at IS NOT NULL AND attempts >= 1)),
  CHECK (state <> 'done' OR attempts >= 1),
  -- Finished exactly when in a final state; a failure says why.
  CHECK ((state IN ('done', 'failed', 'cancelled'))
         = (finished_at IS NOT NULL)),
  CHECK (state <> 'failed' OR last_error IS NOT NULL)
);
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- One waiting job per (kind, user): enqueueing again is a no-op, and a
-- retry that would make a second one is cancelled as superseded.
CREATE UNIQUE INDEX jobs_one_pending ON jobs (kind, user_id)
  WHERE state = 'pending';
-- Claiming: the oldest due jobs first. A rescue is a claim too, and a
-- running job's run_at is always in the past (it was due when claimed), so
-- one ordered scan finds both; the live leases it steps over are bounded by
-- the jobs in flight across all nodes.
CREATE INDEX jobs_claimable ON jobs (run_at, id)
  WHERE state IN ('pending', 'running');
-- Rescuing: running jobs by lease expiry, to find the expired leases of
-- jobs on their last attempt (which fail instead of running again).
CREATE INDEX jobs_leases ON jobs (lease_expires_at)
  WHERE state = 'running';
-- The foreign key's cascade and a user's job history.
CREATE INDEX jobs_by_user ON jobs (user_id, id);

-- Enqueues a job, or when one of this (kind, user) is already pending
-- returns that one with created = false (and changes nothing). Safe under
-- concurrency: the unique index decides, and a pending job that was claimed
-- between the conflict and the look-up makes the loop insert again.
CREATE FUNCTION catchup_enqueue(kind text, user_id uuid,
                                payload jsonb DEFAULT '{}'::jsonb,
                                run_at timestamptz DEFAULT now(),
                                max_attempts integer DEFAULT 5)
RETURNS TABLE (id bigint, created boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  -- Each round loses only to a job that another session inserted and a
  -- third claimed in between; a hundred in a row means something is wrong.
  rounds_max constant integer := 100;
  found_id bigint;
BEGIN
  FOR round IN 1 .. rounds_max LOOP
    INSERT INTO jobs AS j (kind, user_id, payload, run_at, max_attempts)
    VALUES (catchup_enqueue.kind, catchup_enqueue.user_id,
            coalesce(catchup_enqueue.payload, '{}'::jsonb),
            coalesce(catchup_enqueue.run_at, now()),
            coalesce(catchup_enqueue.max_attempts, 5))
    ON CONFLICT (kind, user_id) WHERE state = 'pending' DO NOTHING
    RETURNING j.id INTO found_id;
    IF found_id IS NOT NULL THEN
      id := found_id;
      created := true;
      RETURN NEXT;
      RETURN;
    END IF;
    SELECT j.id INTO found_id FROM jobs j
    WHERE j.kind = catchup_enqueue.kind
      AND j.user_id = catchup_enqueue.user_id AND j.state = 'pending';
    IF found_id IS NOT NULL THEN
      id := found_id;
      created := false;
      RETURN NEXT;
      RETURN;
    END IF;
  END LOOP;
  RAISE EXCEPTION 'cannot enqueue % for user %: the pending job kept '
                  'vanishing (% rounds)', kind, user_id, rounds_max
    USING ERRCODE = '40001';
END
$$;

-- Idle nodes LISTEN on catchup_jobs and claim at once when woken; polling
-- stays their fallback (a lost connection, a run_at coming due). The
-- payload is the kind. NOTIFY is sent at commit and folds duplicates within
-- a transaction, so the scheduler's bulk insert wakes nodes once per kind.
CREATE FUNCTION jobs_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('catchup_jobs', NEW.kind);
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify_inserted AFTER INSERT ON jobs
  FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION jobs_notify();
CREATE TRIGGER jobs_notify_pending AFTER UPDATE OF state ON jobs
  FOR EACH ROW WHEN (NEW.state = 'pending' AND OLD.state <> 'pending')
  EXECUTE FUNCTION jobs_notify();

-- -- schedules ---------------------------------------------------------------

-- When each recurring schedule (by name, e.g. 'generate') is next due. The
-- node that takes the schedule's advisory lock and finds it due enqueues
-- its jobs and moves next_due_at on, in one transaction.
CREATE TABLE schedule_state (
  name          text PRIMARY KEY CHECK (name <> ''),
  next_due_at   timestamptz NOT NULL,
  last_run_at   timestamptz,
  -- Jobs the last run enqueued (users with one pending already are
  -- skipped).
  last_enqueued bigint NOT NULL DEFAULT 0 CHECK (last_enqueued >= 0),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER schedule_state_touch BEFORE UPDATE ON schedule_state
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
