-- Schema version 1: users, contacts and their groups, calendars, availability,
-- suggestions with their generations, exclusions, pauses and sync state.
--
-- Conventions: every table has a bounded purpose and the indexes its queries
-- need; times are timestamptz (absolute instants); a user's IANA timezone
-- says how to show them; a child row repeats user_id so foreign keys can
-- prove it belongs to the same user as its parent.

CREATE TYPE frequency_option AS ENUM
  ('daily', 'weekly', 'biweekly', 'monthly', 'quarterly', 'yearly',
   'flexible', 'na');

CREATE TYPE suggestion_status AS ENUM
  ('pending', 'accepted', 'dismissed', 'snoozed', 'expired');

CREATE TYPE trigger_type AS ENUM ('timebound', 'shared_activity');

CREATE TYPE dunbar_circle AS ENUM ('inner', 'close', 'active', 'casual');

-- Keeps updated_at honest without relying on every writer.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- -- users -------------------------------------------------------------------

CREATE TABLE users (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email      text NOT NULL UNIQUE CHECK (email <> ''),
  name       text NOT NULL DEFAULT '',
  -- IANA zone ("Europe/Berlin", "Asia/Kolkata"); slots are shown in it.
  timezone   text NOT NULL DEFAULT 'UTC' CHECK (timezone <> ''),
  -- Inactive users get no scheduled generation.
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER users_touch BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- -- contacts ----------------------------------------------------------------

CREATE TABLE contacts (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name                 text NOT NULL,
  phone                text,
  email                text,
  linked_in            text,
  instagram            text,
  x_handle             text,
  -- Other profiles as {"platform": "handle or URL"}.
  other_social_media   jsonb NOT NULL DEFAULT '{}'::jsonb,
  location             text,
  timezone             text,
  organization         text,
  custom_notes         text,
  -- NULL: never contacted (counts as 1970-01-01T00:00Z for priority).
  last_contact_date    timestamptz,
  -- NULL: no preference (treated as monthly, but shown as "no preference").
  frequency_preference frequency_option,
  -- The one archive marker: archived contacts are never suggested.
  archived_at          timestamptz,
  -- Where the contact came from: 'manual', 'vcard', 'csv', 'google', ...
  source               text NOT NULL DEFAULT 'manual',
  sources              text[] NOT NULL DEFAULT '{}',
  -- vCard UID, so a re-import updates instead of duplicating.
  external_uid         text,
  -- vCard REV or Google etag of the version last imported.
  external_revision    text,
  google_resource_name text,
  last_synced_at       timestamptz,
  dunbar_circle        dunbar_circle,
  circle_assigned_at   timestamptz,
  circle_confidence    numeric(3, 2)
                         CHECK (circle_confidence BETWEEN 0 AND 1),
  ai_suggested_circle  dunbar_circle,
  circle_assigned_by   text CHECK (circle_assigned_by IN ('user', 'ai')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  -- Derived sort keys for streaming: the frequency class in effect, and a
  -- last-contact key that is never NULL (never contacted sorts first), so
  -- keyset pagination can compare rows with (a, b) > ($1, $2).
  effective_frequency  frequency_option NOT NULL
    GENERATED ALWAYS AS (coalesce(frequency_preference, 'monthly')) STORED,
  last_contact_key     timestamptz NOT NULL
    GENERATED ALWAYS AS (coalesce(last_contact_date, '-infinity')) STORED,
  CHECK (name <> ''),
  -- Never contacted is NULL, which counts as 1970-01-01; an earlier date
  -- would rank above "never", which no real history needs.
  CHECK (last_contact_date >= '1970-01-01T00:00:00Z'),
  UNIQUE (user_id, id)
);
CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The engine ranks at whole seconds: days are floor((now - last) / 86400 s)
-- with "now" in whole seconds, and ties break on the last contact. Storing
-- whole seconds keeps the index order, the SQL due filter and the ranking
-- in exact agreement.
CREATE FUNCTION contacts_whole_seconds() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.last_contact_date := date_trunc('second', NEW.last_contact_date);
  RETURN NEW;
END
$$;
CREATE TRIGGER contacts_whole_seconds BEFORE INSERT OR UPDATE ON contacts
  FOR EACH ROW EXECUTE FUNCTION contacts_whole_seconds();

-- One index per stream order of the streaming repository; archived contacts
-- are never streamed, so they are not indexed for it.
CREATE INDEX contacts_by_last_contact ON contacts
  (user_id, last_contact_key, id) WHERE archived_at IS NULL;
CREATE INDEX contacts_by_name ON contacts
  (user_id, name, id) WHERE archived_at IS NULL;
CREATE INDEX contacts_by_created ON contacts
  (user_id, created_at, id) WHERE archived_at IS NULL;
-- The priority stream merges one ordered scan per frequency class.
CREATE INDEX contacts_by_class ON contacts
  (user_id, effective_frequency, last_contact_key, id)
  WHERE archived_at IS NULL;
CREATE UNIQUE INDEX contacts_external_uid ON contacts (user_id, external_uid)
  WHERE external_uid IS NOT NULL;
CREATE UNIQUE INDEX contacts_google_resource ON contacts
  (user_id, google_resource_name) WHERE google_resource_name IS NOT NULL;
CREATE INDEX contacts_email ON contacts (user_id, lower(email))
  WHERE email IS NOT NULL;

-- -- groups ------------------------------------------------------------------

CREATE TABLE groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (name <> ''),
  description text,
  archived_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name),
  UNIQUE (user_id, id)
);
CREATE TRIGGER groups_touch BEFORE UPDATE ON groups
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE contact_groups (
  user_id    uuid NOT NULL,
  contact_id uuid NOT NULL,
  group_id   uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (contact_id, group_id),
  FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id)
    ON DELETE CASCADE,
  FOREIGN KEY (user_id, group_id) REFERENCES groups (user_id, id)
    ON DELETE CASCADE
);
CREATE INDEX contact_groups_by_group ON contact_groups (group_id);

-- -- calendars ---------------------------------------------------------------

CREATE TABLE calendar_events (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The calendar within its source ('primary', a Google calendar id, a
  -- file name); part of the key so one event in two calendars stays two.
  calendar_id text NOT NULL DEFAULT 'primary',
  -- Event id in its source; a recurrence instance appends its start.
  external_id text NOT NULL CHECK (external_id <> ''),
  source      text NOT NULL DEFAULT 'manual',
  summary     text,
  location    text,
  start_time  timestamptz NOT NULL,
  end_time    timestamptz NOT NULL,
  -- The zone the event was written in, for display only.
  timezone    text,
  is_all_day  boolean NOT NULL DEFAULT false,
  -- False for TRANSP:TRANSPARENT / transparency=transparent events.
  is_busy     boolean NOT NULL DEFAULT true,
  synced_at   timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_time >= start_time),
  UNIQUE (user_id, calendar_id, external_id)
);
CREATE TRIGGER calendar_events_touch BEFORE UPDATE ON calendar_events
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- Busy time in a window: start_time < window_end AND end_time > window_start.
CREATE INDEX calendar_events_busy ON calendar_events
  (user_id, start_time, end_time) WHERE is_busy;

-- -- availability ------------------------------------------------------------

-- When a user is open to catching up, in their own timezone. A user with no
-- rows gets the engine's default (weekdays 18:00-21:00, weekends
-- 10:00-20:00).
CREATE TABLE availability_windows (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- ISO weekday: 1 = Monday ... 7 = Sunday.
  weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  -- Minutes after local midnight; end 1440 = midnight at the day's end.
  start_minute smallint NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
  end_minute   smallint NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
  CHECK (end_minute > start_minute),
  PRIMARY KEY (user_id, weekday, start_minute)
);

-- -- suggestions -------------------------------------------------------------

-- One row per generation run for a user: what it read and produced.
CREATE TABLE generations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The "now" the generation computed with (injectable for reproducibility).
  as_of           timestamptz NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  contacts_read   bigint NOT NULL DEFAULT 0 CHECK (contacts_read >= 0),
  batches         integer NOT NULL DEFAULT 0 CHECK (batches >= 0),
  suggestions     integer NOT NULL DEFAULT 0 CHECK (suggestions >= 0),
  -- True when memory pressure reduced the suggestion cap.
  partial         boolean NOT NULL DEFAULT false,
  warnings        text[] NOT NULL DEFAULT '{}',
  wall_ms         double precision CHECK (wall_ms >= 0),
  UNIQUE (user_id, id)
);
CREATE INDEX generations_by_user ON generations (user_id, started_at DESC);

CREATE TABLE suggestions (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id            uuid NOT NULL,
  contact_id         uuid NOT NULL,
  generation_id      uuid,
  trigger_type       trigger_type NOT NULL DEFAULT 'timebound',
  status             suggestion_status NOT NULL DEFAULT 'pending',
  -- Position within its generation: 1 = most overdue, earliest slot.
  rank               integer CHECK (rank >= 1),
  priority           double precision NOT NULL CHECK (priority >= 0),
  slot_start         timestamptz NOT NULL,
  slot_end           timestamptz NOT NULL,
  -- The user's zone when the slot was chosen, for display.
  slot_timezone      text NOT NULL,
  -- A sentence a person can read: why this contact, why now.
  reason             text NOT NULL,
  snoozed_until      timestamptz,
  dismissal_reason   text,
  calendar_event_id  text,
  responded_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (slot_end > slot_start),
  CHECK (status <> 'snoozed' OR snoozed_until IS NOT NULL),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id)
    ON DELETE CASCADE,
  FOREIGN KEY (user_id, generation_id) REFERENCES generations (user_id, id)
    ON DELETE SET NULL (generation_id)
);
CREATE TRIGGER suggestions_touch BEFORE UPDATE ON suggestions
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE INDEX suggestions_by_user ON suggestions (user_id, status, slot_start);
CREATE INDEX suggestions_by_contact ON suggestions (user_id, contact_id, status);

-- Contacts a user never wants suggested.
CREATE TABLE suggestion_exclusions (
  user_id    uuid NOT NULL,
  contact_id uuid NOT NULL,
  reason     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, contact_id),
  FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id)
    ON DELETE CASCADE
);

-- A user's pause: no suggestions while now is in [pause_start, pause_end).
CREATE TABLE suggestion_pauses (
  user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  pause_start timestamptz NOT NULL,
  pause_end   timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (pause_end > pause_start)
);

-- -- sync state --------------------------------------------------------------

-- Progress and tokens of each import or sync, so a sync can resume after a
-- crash and an incremental sync can use the source's sync token.
CREATE TABLE sync_state (
  user_id                  uuid NOT NULL REFERENCES users (id)
                             ON DELETE CASCADE,
  -- 'google_contacts', 'google_calendar', 'vcard', 'csv', 'ical'.
  source                   text NOT NULL CHECK (source <> ''),
  -- Calendar id, file path or '' when the source has one resource.
  resource                 text NOT NULL DEFAULT '',
  sync_token               text,
  -- Where an interrupted run resumes (page token, item number, ...).
  resume_cursor            jsonb,
  status                   text NOT NULL DEFAULT 'idle'
    CHECK (status IN ('idle', 'running', 'succeeded', 'failed')),
  last_error               text,
  items_synced             bigint NOT NULL DEFAULT 0 CHECK (items_synced >= 0),
  last_full_sync_at        timestamptz,
  last_incremental_sync_at timestamptz,
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, source, resource)
);
CREATE TRIGGER sync_state_touch BEFORE UPDATE ON sync_state
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
