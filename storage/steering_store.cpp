// SPDX-License-Identifier: Apache-2.0
#include "storage/steering_store.hpp"

#include <pqxx/pqxx>

#include "core/cadence.hpp"
#include "core/utf8.hpp"
#include "core/uuid.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"
#include "storage/user_store.hpp"

namespace catchup::storage {

namespace {

constexpr std::int64_t statement_timeout_ms = 60000;

// The most candidates an ambiguous name lists.
constexpr std::size_t candidates_listed_max = 10;

struct connection {
  explicit connection(const std::string& url) : conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
  }
  pqxx::connection conn;
};

void require_user(pqxx::transaction_base& tx, const std::string& user_id) {
  if (tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid", user_id)
        .empty())
    throw storage_error(ec::not_found, "user " + user_id + " not found");
}

std::string resolve_contact_in(pqxx::transaction_base& tx,
                               const std::string& user_id,
                               const std::string& ref) {
  require_input(!ref.empty(), "a contact is named by its id, name or e-mail; "
                              "got an empty name");
  if (is_uuid_text(ref)) {
    if (tx.exec_params("SELECT 1 FROM contacts WHERE user_id = $1::uuid "
                       "AND id = $2::uuid",
                       user_id, ref)
          .empty())
      throw storage_error(ec::not_found, "contact " + ref + " not found");
    return ref;
  }
  // Exact name (contacts_by_name) or e-mail in any case (contacts_email).
  auto rows = tx.exec_params(
    "SELECT id::text, name, coalesce(email, '') FROM contacts "
    "WHERE user_id = $1::uuid AND (name = $2 OR lower(email) = lower($2)) "
    "ORDER BY name, id LIMIT $3",
    user_id, ref, candidates_listed_max + 1);
  if (rows.empty())
    throw storage_error(ec::not_found, "no contact named '" + ref
                                         + "' (give its id, exact name or "
                                           "e-mail)");
  if (rows.size() == 1)
    return rows[0][0].c_str();
  std::string why = "'" + ref + "' names " +
                    (rows.size() > candidates_listed_max
                       ? "more than " + std::to_string(candidates_listed_max)
                       : std::to_string(rows.size()))
                    + " contacts; name one by id:";
  for (std::size_t i = 0; i < rows.size() && i < candidates_listed_max; ++i) {
    why += "\n  " + std::string{rows[i][0].c_str()} + "  "
           + rows[i][1].c_str();
    if (!rows[i][2].as<std::string>().empty())
      why += " <" + std::string{rows[i][2].c_str()} + ">";
  }
  throw storage_error(ec::invalid_input, why);
}

std::string resolve_group_in(pqxx::transaction_base& tx,
                             const std::string& user_id,
                             const std::string& ref) {
  require_input(!ref.empty(), "a group is named by its id or name; got an "
                              "empty name");
  auto rows = is_uuid_text(ref)
                ? tx.exec_params("SELECT id::text FROM groups WHERE "
                                 "user_id = $1::uuid AND id = $2::uuid",
                                 user_id, ref)
                : tx.exec_params("SELECT id::text FROM groups WHERE "
                                 "user_id = $1::uuid AND name = $2",
                                 user_id, ref);
  if (rows.empty())
    throw storage_error(ec::not_found, "group '" + ref + "' not found");
  return rows[0][0].c_str();
}

void check_group_name(const std::string& name) {
  require_input(!name.empty(), "group name is empty");
  require_input(name.size() <= group_name_bytes_max,
                "group name is " + std::to_string(name.size())
                  + " bytes, at most "
                  + std::to_string(group_name_bytes_max));
  require_input(valid_utf8(name), "group name is not valid UTF-8");
}

void check_group_cadence(std::int32_t days, bool keep_ok) {
  if (keep_ok && days == -1)
    return;
  require_input(days >= 0 && days <= cadence_days_max,
                "group cadence " + std::to_string(days) + " days is not in 1.."
                  + std::to_string(cadence_days_max) + " (or 0: none)");
}

const char* const group_columns
  = "g.id::text, g.name, coalesce(g.cadence_days, 0), "
    "(SELECT count(*) FROM contact_groups cg WHERE cg.group_id = g.id)";

group_info read_group(const pqxx::row& row) {
  group_info g;
  g.id = row[0].c_str();
  g.name = row[1].c_str();
  g.cadence_days = row[2].as<std::int32_t>();
  g.members = row[3].as<std::int64_t>();
  return g;
}

group_info group_by_id(pqxx::transaction_base& tx, const std::string& id) {
  return read_group(tx.exec_params1(std::string{"SELECT "} + group_columns
                                      + " FROM groups g WHERE g.id = $1::uuid",
                                    id));
}

} // namespace

stored_user_settings read_user_settings(const std::string& url,
                                        const std::string& user_id) {
  require_user_id(user_id);
  stored_user_settings out;
  try {
    connection c{url};
    pqxx::read_transaction tx{c.conn};
    auto rows = tx.exec_params(
      "SELECT timezone, default_cadence_days, "
      "coalesce(dismiss_cooldown_days, 0), coalesce(slot_horizon_days, 0), "
      "coalesce(slot_minutes, 0), coalesce(slots_per_day, 0), "
      "coalesce(suggestions_per_run, 0) FROM users WHERE id = $1::uuid",
      user_id);
    if (rows.empty())
      throw storage_error(ec::not_found, "user " + user_id + " not found");
    auto r = rows[0];
    out.timezone = r[0].c_str();
    out.default_cadence_days = r[1].as<std::int32_t>();
    out.dismiss_cooldown_days = r[2].as<std::int32_t>();
    out.slot_horizon_days = r[3].as<std::int32_t>();
    out.slot_minutes = r[4].as<std::int32_t>();
    out.slots_per_day = r[5].as<std::int32_t>();
    out.suggestions_per_run = r[6].as<std::int32_t>();
    for (auto w : tx.exec_params(
           "SELECT weekday, start_minute, end_minute FROM availability_windows "
           "WHERE user_id = $1::uuid ORDER BY weekday, start_minute",
           user_id))
      out.availability.push_back({w[0].as<int>(), w[1].as<int>(),
                                  w[2].as<int>()});
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the settings of user "
                                     + user_id);
  }
  return out;
}

std::string resolve_contact(const std::string& url, const std::string& user_id,
                            const std::string& ref) {
  require_user_id(user_id);
  try {
    connection c{url};
    pqxx::read_transaction tx{c.conn};
    require_user(tx, user_id);
    return resolve_contact_in(tx, user_id, ref);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot find contact '" + ref
                                     + "' of user " + user_id);
  }
}

std::string update_contact(const std::string& url, const std::string& user_id,
                           const std::string& contact_ref,
                           const contact_update& u, std::int64_t now_unix_s) {
  require_user_id(user_id);
  std::optional<cadence_choice> cadence;
  std::string why;
  if (u.cadence) {
    cadence = parse_cadence(*u.cadence, why);
    require_input(cadence.has_value(), why);
  }
  std::optional<std::string> importance;
  if (u.importance) {
    importance = parse_importance(*u.importance, why);
    require_input(importance.has_value(), why);
  }
  if (u.paused_until_unix_s && *u.paused_until_unix_s != 0)
    require_input(*u.paused_until_unix_s > now_unix_s,
                  "paused_until " + std::to_string(*u.paused_until_unix_s)
                    + " (Unix seconds) is not after now ("
                    + std::to_string(now_unix_s)
                    + "); give a future time, or 0 to resume");
  try {
    connection c{url};
    pqxx::work tx{c.conn};
    require_user(tx, user_id);
    auto id = resolve_contact_in(tx, user_id, contact_ref);
    std::optional<std::string> named;
    std::optional<std::string> days;
    if (cadence && cadence->named)
      named = std::string{to_string(*cadence->named)};
    if (cadence && cadence->days > 0)
      days = std::to_string(cadence->days);
    std::optional<std::string> archived;
    if (u.archived)
      archived = *u.archived ? "true" : "false";
    std::optional<std::string> paused;
    if (u.paused_until_unix_s)
      paused = std::to_string(*u.paused_until_unix_s);
    auto text = [](const std::optional<std::string>& x) {
      return x ? x->c_str() : nullptr;
    };
    tx.exec_params(
      "UPDATE contacts SET "
      "frequency_preference = CASE WHEN $3 THEN $4::frequency_option "
      "ELSE frequency_preference END, "
      "cadence_days = CASE WHEN $3 THEN $5::int ELSE cadence_days END, "
      "dunbar_circle = CASE WHEN $6 THEN nullif($7, '')::dunbar_circle "
      "ELSE dunbar_circle END, "
      "circle_assigned_by = CASE WHEN $6 THEN CASE WHEN $7 = '' THEN NULL "
      "ELSE 'user' END ELSE circle_assigned_by END, "
      "circle_assigned_at = CASE WHEN $6 THEN to_timestamp($10::bigint) "
      "ELSE circle_assigned_at END, "
      "archived_at = CASE WHEN $8::boolean IS NULL THEN archived_at "
      "WHEN $8::boolean THEN coalesce(archived_at, to_timestamp($10::bigint)) "
      "ELSE NULL END, "
      "paused_until = CASE WHEN $9::bigint IS NULL THEN paused_until "
      "ELSE to_timestamp(nullif($9::bigint, 0)) END "
      "WHERE user_id = $1::uuid AND id = $2::uuid",
      user_id, id, cadence.has_value(), text(named), text(days),
      importance.has_value(), importance.value_or(""), text(archived),
      text(paused), now_unix_s);
    // An archived or paused contact's pending suggestion is withdrawn.
    if ((u.archived && *u.archived)
        || (u.paused_until_unix_s && *u.paused_until_unix_s != 0))
      tx.exec_params("UPDATE suggestions SET status = 'expired' "
                     "WHERE user_id = $1::uuid AND contact_id = $2::uuid "
                     "AND status = 'pending'",
                     user_id, id);
    tx.commit();
    return id;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot update contact '" + contact_ref
                                     + "' of user " + user_id);
  }
}

std::vector<group_info> list_groups(const std::string& url,
                                    const std::string& user_id) {
  require_user_id(user_id);
  std::vector<group_info> out;
  try {
    connection c{url};
    pqxx::read_transaction tx{c.conn};
    require_user(tx, user_id);
    for (auto row : tx.exec_params(std::string{"SELECT "} + group_columns
                                     + " FROM groups g WHERE g.user_id = "
                                       "$1::uuid AND g.archived_at IS NULL "
                                       "ORDER BY g.name, g.id",
                                   user_id))
      out.push_back(read_group(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list the groups of user "
                                     + user_id);
  }
  return out;
}

group_info create_group(const std::string& url, const std::string& user_id,
                        const std::string& name, std::int32_t cadence_days) {
  require_user_id(user_id);
  check_group_name(name);
  check_group_cadence(cadence_days, false);
  try {
    connection c{url};
    pqxx::work tx{c.conn};
    require_user(tx, user_id);
    auto rows = tx.exec_params(
      "INSERT INTO groups (user_id, name, cadence_days) "
      "VALUES ($1::uuid, $2, nullif($3::int, 0)) "
      "ON CONFLICT (user_id, name) DO NOTHING RETURNING id::text",
      user_id, name, cadence_days);
    if (rows.empty())
      throw storage_error(ec::conflict, "group '" + name + "' exists");
    auto out = group_by_id(tx, rows[0][0].c_str());
    tx.commit();
    return out;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot create group '" + name
                                     + "' of user " + user_id);
  }
}

group_info update_group(const std::string& url, const std::string& user_id,
                        const std::string& group_ref,
                        const std::string& new_name,
                        std::int32_t cadence_days) {
  require_user_id(user_id);
  if (!new_name.empty())
    check_group_name(new_name);
  check_group_cadence(cadence_days, true);
  try {
    connection c{url};
    pqxx::work tx{c.conn};
    require_user(tx, user_id);
    auto id = resolve_group_in(tx, user_id, group_ref);
    try {
      pqxx::subtransaction rename{tx};
      // The trigger groups_cadence_changed moves members' cadences.
      rename.exec_params(
        "UPDATE groups SET name = coalesce(nullif($2, ''), name), "
        "cadence_days = CASE WHEN $3::int = -1 THEN cadence_days "
        "ELSE nullif($3::int, 0) END WHERE id = $1::uuid",
        id, new_name, cadence_days);
      rename.commit();
    } catch (const pqxx::unique_violation&) {
      throw storage_error(ec::conflict, "group '" + new_name + "' exists");
    }
    auto out = group_by_id(tx, id);
    tx.commit();
    return out;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot change group '" + group_ref
                                     + "' of user " + user_id);
  }
}

void delete_group(const std::string& url, const std::string& user_id,
                  const std::string& group_ref) {
  require_user_id(user_id);
  try {
    connection c{url};
    pqxx::work tx{c.conn};
    require_user(tx, user_id);
    auto id = resolve_group_in(tx, user_id, group_ref);
    tx.exec_params("DELETE FROM groups WHERE id = $1::uuid", id);
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot delete group '" + group_ref
                                     + "' of user " + user_id);
  }
}

std::int64_t change_members(const std::string& url, const std::string& user_id,
                            const std::string& group_ref,
                            const std::vector<std::string>& contact_refs,
                            bool remove) {
  require_user_id(user_id);
  require_input(!contact_refs.empty(), "no contact given");
  require_input(contact_refs.size() <= group_members_per_call_max,
                std::to_string(contact_refs.size())
                  + " contacts in one call, at most "
                  + std::to_string(group_members_per_call_max));
  try {
    connection c{url};
    pqxx::work tx{c.conn};
    require_user(tx, user_id);
    auto group = resolve_group_in(tx, user_id, group_ref);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < contact_refs.size(); ++i) {
      try {
        ids.push_back(resolve_contact_in(tx, user_id, contact_refs[i]));
      } catch (const storage_error& e) {
        throw storage_error(e.code(), "contact " + std::to_string(i + 1)
                                        + " of " + std::to_string(contact_refs.size())
                                        + ": " + e.what());
      }
    }
    auto ids_literal = detail::array_literal(ids);
    auto changed
      = remove ? tx.exec_params("DELETE FROM contact_groups WHERE group_id = "
                                "$2::uuid AND contact_id = ANY ($3::uuid[]) "
                                "AND user_id = $1::uuid",
                                user_id, group, ids_literal)
               : tx.exec_params("INSERT INTO contact_groups (user_id, "
                                "contact_id, group_id) SELECT DISTINCT "
                                "$1::uuid, x, $2::uuid FROM "
                                "unnest($3::uuid[]) x ON CONFLICT DO NOTHING",
                                user_id, group, ids_literal);
    tx.commit();
    return static_cast<std::int64_t>(changed.affected_rows());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot change the members of group '"
                                     + group_ref + "' of user " + user_id);
  }
}

} // namespace catchup::storage
