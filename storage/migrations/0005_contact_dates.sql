-- Contacts' birthdays and anniversaries: a month and a day that come back
-- every year, and the year when the source gave one. Imports write them
-- (an imported date replaces the stored one of its kind; an import without
-- a date of a kind leaves the stored one alone); the upcoming-dates query
-- reads them by (user, month, day).

CREATE TABLE contact_dates (
  user_id    uuid NOT NULL,
  contact_id uuid NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('birthday', 'anniversary')),
  month      smallint NOT NULL CHECK (month BETWEEN 1 AND 12),
  -- Feb 29 is allowed; it falls on Feb 28 in a year without it.
  day        smallint NOT NULL CHECK (
    day >= 1 AND day <= CASE WHEN month = 2 THEN 29
                             WHEN month IN (4, 6, 9, 11) THEN 30
                             ELSE 31 END),
  -- NULL: the year is not known.
  year       smallint CHECK (year BETWEEN 1 AND 9999),
  PRIMARY KEY (contact_id, kind),
  FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id)
    ON DELETE CASCADE
);

-- The upcoming-dates query reads month/day ranges of one user.
CREATE INDEX contact_dates_by_day ON contact_dates (user_id, month, day);
