-- Schema version 4: what a user steers. Per contact a custom cadence in
-- days, an importance (the Dunbar circle) and a pause; per group a cadence
-- its members inherit; per user a default cadence, a dismissal cool-down
-- and the slot policy. The derived keys keep the priority stream an
-- ordered index scan per (cadence, importance) class.

-- A contact never contacted is due one cadence after it was added
-- (created_at), so created_at joins last_contact_date in whole seconds.
CREATE OR REPLACE FUNCTION contacts_whole_seconds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.last_contact_date := date_trunc('second', NEW.last_contact_date);
  NEW.created_at := date_trunc('second', NEW.created_at);
  RETURN NEW;
END
$$;
UPDATE contacts SET created_at = date_trunc('second', created_at)
  WHERE created_at <> date_trunc('second', created_at);

-- Days of a named cadence class; the engine's core/frequency.hpp holds the
-- same table (threshold_days) and a test holds the two equal.
CREATE FUNCTION frequency_days(f frequency_option) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE f
    WHEN 'daily' THEN 1 WHEN 'weekly' THEN 7 WHEN 'biweekly' THEN 14
    WHEN 'monthly' THEN 30 WHEN 'quarterly' THEN 90 WHEN 'yearly' THEN 365
    WHEN 'flexible' THEN 60 WHEN 'na' THEN 365 END
$$;

DROP INDEX contacts_by_class;
ALTER TABLE contacts DROP COLUMN effective_frequency;

ALTER TABLE contacts
  -- "Every N days", set by the user; a named class (frequency_preference)
  -- and a custom cadence are never both set.
  ADD COLUMN cadence_days integer
    CHECK (cadence_days BETWEEN 1 AND 3650),
  -- The shortest cadence among the contact's groups (kept by triggers
  -- below); NULL when none of its groups has one.
  ADD COLUMN group_cadence_days integer
    CHECK (group_cadence_days BETWEEN 1 AND 3650),
  -- Not suggested while now < paused_until; the clock (last contact) is
  -- untouched, so the contact comes back as due as it would have been.
  ADD COLUMN paused_until timestamptz,
  -- The cadence in effect: the contact's own, else its groups', else 0,
  -- which stands for the user's default (users.default_cadence_days), so
  -- changing the default rewrites no contact.
  ADD COLUMN effective_cadence_days integer NOT NULL
    GENERATED ALWAYS AS (coalesce(cadence_days,
                                  frequency_days(frequency_preference),
                                  group_cadence_days, 0)) STORED,
  -- Importance in quarters: each day overdue counts weight / 4 days
  -- (inner circle 2, close 1.5, active 1.25, none 1, casual 0.75). Whole
  -- numbers keep the ranking exact in SQL and in C++ alike.
  ADD COLUMN importance_weight smallint NOT NULL
    GENERATED ALWAYS AS (CASE dunbar_circle
                           WHEN 'inner' THEN 8 WHEN 'close' THEN 6
                           WHEN 'active' THEN 5 WHEN 'casual' THEN 3
                           ELSE 4 END) STORED,
  -- What the cadence counts from: the last contact, else when the contact
  -- was added.
  ADD COLUMN due_key timestamptz NOT NULL
    GENERATED ALWAYS AS (coalesce(last_contact_date, created_at)) STORED,
  ADD CHECK (cadence_days IS NULL OR frequency_preference IS NULL);

-- The priority stream merges one ordered scan per (cadence, importance)
-- class; the class list itself is read by skipping through this index.
CREATE INDEX contacts_by_due ON contacts
  (user_id, effective_cadence_days, importance_weight, due_key, id)
  WHERE archived_at IS NULL;

-- -- group cadences ------------------------------------------------------------

ALTER TABLE groups
  ADD COLUMN cadence_days integer CHECK (cadence_days BETWEEN 1 AND 3650);

CREATE FUNCTION group_cadence_of(contact uuid) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT min(g.cadence_days) FROM contact_groups cg
  JOIN groups g ON g.id = cg.group_id
  WHERE cg.contact_id = contact AND g.archived_at IS NULL
$$;

-- Memberships added: only groups with a cadence can lower a member's.
CREATE FUNCTION contact_groups_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE contacts c SET group_cadence_days = group_cadence_of(c.id)
  FROM (SELECT DISTINCT ch.contact_id FROM changed ch
        JOIN groups g ON g.id = ch.group_id
        WHERE g.cadence_days IS NOT NULL) m
  WHERE c.id = m.contact_id
    AND c.group_cadence_days IS DISTINCT FROM group_cadence_of(c.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER contact_groups_added AFTER INSERT ON contact_groups
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION contact_groups_added();

-- Memberships removed (also when their group is deleted): only members
-- that have a group cadence can lose it.
CREATE FUNCTION contact_groups_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE contacts c SET group_cadence_days = group_cadence_of(c.id)
  FROM (SELECT DISTINCT contact_id FROM changed) m
  WHERE c.id = m.contact_id AND c.group_cadence_days IS NOT NULL
    AND c.group_cadence_days IS DISTINCT FROM group_cadence_of(c.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER contact_groups_removed AFTER DELETE ON contact_groups
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION contact_groups_removed();

CREATE FUNCTION groups_cadence_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE contacts c SET group_cadence_days = group_cadence_of(c.id)
  FROM contact_groups cg
  WHERE cg.group_id = NEW.id AND c.id = cg.contact_id
    AND c.group_cadence_days IS DISTINCT FROM group_cadence_of(c.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER groups_cadence_changed AFTER UPDATE ON groups
  FOR EACH ROW
  WHEN (OLD.cadence_days IS DISTINCT FROM NEW.cadence_days
        OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL))
  EXECUTE FUNCTION groups_cadence_changed();

-- -- user settings -------------------------------------------------------------

-- NULL in a slot or run setting means the engine's configured default.
ALTER TABLE users
  ADD COLUMN default_cadence_days integer NOT NULL DEFAULT 30
    CHECK (default_cadence_days BETWEEN 1 AND 3650),
  -- A dismissed contact is held back this long; NULL: one cadence period.
  ADD COLUMN dismiss_cooldown_days integer
    CHECK (dismiss_cooldown_days BETWEEN 1 AND 3650),
  ADD COLUMN slot_horizon_days integer
    CHECK (slot_horizon_days BETWEEN 1 AND 90),
  ADD COLUMN slot_minutes integer CHECK (slot_minutes BETWEEN 15 AND 480),
  ADD COLUMN slots_per_day integer CHECK (slots_per_day BETWEEN 1 AND 24),
  ADD COLUMN suggestions_per_run integer
    CHECK (suggestions_per_run BETWEEN 1 AND 1000);

