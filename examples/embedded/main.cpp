// SPDX-License-Identifier: Apache-2.0
// Embeds the engine: opens it on its own private database, mirrors one
// user, imports a real vCard file for them, generates, and prints the
// suggestions.
//
//   embedded [VCARD_FILE [DATA_DIR]]
//
// VCARD_FILE defaults to ../shared/data/real/vcard/ezvcard_gmail-list.vcf
// (relative to the working directory); DATA_DIR, where the private
// PostgreSQL cluster lives, defaults to ./catchup-data.

#include <ctime>
#include <iostream>
#include <string>

#include <catchup/engine.hpp>

namespace {

std::string utc_text(std::int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return text;
}

int fail(const char* what, const catchup::error& err) {
  std::cerr << "embedded: " << what << ": " << catchup::to_string(err.code)
            << ": " << err.message << "\n";
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string vcards = argc > 1 ? argv[1]
                                : "../shared/data/real/vcard/"
                                  "ezvcard_gmail-list.vcf";
  catchup::engine_config config;
  config.data_dir = argc > 2 ? argv[2] : "catchup-data";
  config.settings = {{"log.level", "warn"}};

  std::cout << "CatchUp Engine " << catchup::version() << " (headers "
            << CATCHUP_VERSION_STRING << ")\n";
  auto eng = catchup::engine::open(config);
  if (!eng)
    return fail("open", eng.error());

  catchup::user_profile ada;
  ada.email = "ada@example.org";
  ada.name = "Ada";
  ada.timezone = "Europe/London";
  auto user = eng->put_user(ada);
  if (!user)
    return fail("put_user", user.error());

  catchup::import_params params;
  params.user_id = *user;
  auto imported = eng->import_file(vcards, params);
  if (!imported)
    return fail("import", imported.error());
  std::cout << "imported " << vcards << ": " << imported->items << " cards, "
            << imported->inserted << " new, " << imported->updated
            << " updated, " << imported->skipped << " skipped\n";
  for (const auto& w : imported->warnings)
    std::cout << "  warning: " << w.where << ": " << w.reason << "\n";

  // Contacts just imported are due one cadence after they were added (a
  // month unless set otherwise): generate as of 31 days from now.
  const std::int64_t in_a_month = eng->now_unix_s() + 31 * 86400;
  auto generated = eng->generate(*user, in_a_month);
  if (!generated)
    return fail("generate", generated.error());
  std::cout << "generated " << generated->suggestions << " suggestions from "
            << generated->contacts_read << " contacts in "
            << generated->wall_ms << " ms\n";

  auto pending = eng->suggestions(*user);
  if (!pending)
    return fail("suggestions", pending.error());
  for (const auto& s : *pending)
    std::cout << "  " << s.rank << ". " << s.contact_name << " at "
              << utc_text(s.slot_start_unix_s) << ": " << s.reason << "\n";
  return pending->empty() ? 1 : 0;
}
