-- Schema version 3: cluster membership. Every node that works from the job
-- queue keeps one row here and beats on it, so peers (and people) see which
-- nodes exist, how loaded each is, and which one stopped. A node its peers
-- saw die is declared down, and the leases it held are ended at once
-- (job_queue::expire_leases) rather than after they run out.

CREATE TABLE nodes (
  -- The node's name, the same text as jobs.lease_owner ("host:pid"), so a
  -- node declared down names the leases to end.
  id              text PRIMARY KEY CHECK (id <> ''),
  -- host:port of its cluster endpoint; '' when it does not cluster (peers
  -- then know it only through this table).
  address         text NOT NULL DEFAULT '',
  -- The engine version it runs, to spot a mixed cluster during an upgrade.
  version         text NOT NULL DEFAULT '',
  -- up: beating; down: its peers saw it die (down_at, down_reason say when
  -- and why); left: it stopped gracefully, its jobs handed back.
  state           text NOT NULL DEFAULT 'up'
    CHECK (state IN ('up', 'down', 'left')),
  -- Its memory pressure level at the latest beat (core/pressure.hpp), so
  -- a busy cluster can prefer the nodes with room.
  level           text NOT NULL DEFAULT 'normal'
    CHECK (level IN ('normal', 'elevated', 'high', 'critical')),
  -- Memory it had allocated and its budget at the latest beat.
  allocated_bytes bigint NOT NULL DEFAULT 0 CHECK (allocated_bytes >= 0),
  budget_bytes    bigint NOT NULL DEFAULT 0 CHECK (budget_bytes >= 0),
  -- Jobs it held leases on at the latest beat.
  jobs_in_flight  integer NOT NULL DEFAULT 0 CHECK (jobs_in_flight >= 0),
  -- When it (re)registered: a restart under the same name starts anew.
  started_at      timestamptz NOT NULL DEFAULT now(),
  -- Its latest beat, on the database's clock like the leases, so the age
  -- of a beat means the same on every node whatever their clocks say.
  heartbeat_at    timestamptz NOT NULL DEFAULT now(),
  -- When it was declared down and why (which peer saw what); NULL unless
  -- down. A beat after that means it rejoined, and clears both.
  down_at         timestamptz,
  down_reason     text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'down') = (down_at IS NOT NULL)),
  CHECK ((down_at IS NULL) = (down_reason IS NULL))
);
CREATE TRIGGER nodes_touch BEFORE UPDATE ON nodes
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- No other index: a cluster has a handful of nodes, and every query reads
-- one row by id or all of them.
