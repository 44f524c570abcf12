// SPDX-License-Identifier: Apache-2.0
// The engine facade's imports: files, streams and Google accounts, page by
// page through the engine's sync actors.
#include "catchup/engine.hpp"

#include <cctype>

#include "convert.hpp"
#include "engine_impl.hpp"

namespace catchup {

using api::closed_text;
using api::input_means;

namespace {

/// The internal request of an import, or why there is none.
result<import_request> request_of(const std::string& path_or_name,
                                  const import_params& params,
                                  bool needs_format) {
  import_request r;
  r.user_id = params.user_id;
  r.path = path_or_name;
  r.strict = params.strict;
  r.calendar_id = params.calendar_id;
  r.now_unix_s = params.now_unix_s; // 0: the engine's clock
  auto format = params.format;
  if (format == import_format::contacts_by_extension) {
    // The importer's own rule, and its message for a name it does not know;
    // a stream has no file to tell by, so its name has to.
    r.format = contact_format_of(path_or_name);
    if (needs_format && !r.format)
      return error{error_code::invalid_argument,
                   path_or_name + ": a stream import needs its format"};
    return r;
  }
  if (format == import_format::by_extension) {
    if (needs_format)
      return error{error_code::invalid_argument,
                   path_or_name + ": a stream import needs its format"};
    // Contacts by the importer's own rule; calendars by theirs.
    auto contacts = contact_format_of(path_or_name);
    auto dot = path_or_name.rfind('.');
    auto ext = dot == std::string::npos ? std::string{}
                                        : path_or_name.substr(dot + 1);
    for (auto& c : ext)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (contacts)
      format = *contacts == contact_format::vcard ? import_format::vcard
                                                  : import_format::csv;
    else if (ext == "ics" || ext == "ical" || ext == "ifb")
      format = import_format::icalendar;
    else
      return error{error_code::invalid_argument,
                   path_or_name
                     + ": unknown format (name it, or use a .vcf, .csv or "
                       ".ics file)"};
  }
  switch (format) {
    case import_format::vcard:
      r.format = contact_format::vcard;
      break;
    case import_format::csv:
      r.format = contact_format::csv;
      break;
    case import_format::icalendar:
      r.what = import_request::kind::calendar;
      break;
    case import_format::by_extension:
    case import_format::contacts_by_extension:
      break;
  }
  return r;
}

/// A finished import as a result: a run that stopped early is an error
/// whose message says where and how far it got.
result<import_summary> outcome_of(const import_report& report, bool strict) {
  auto stopped = api::stop_reason(report, strict);
  if (stopped.code == error_code::ok)
    return api::to_public(report);
  stopped.message += " (" + std::to_string(report.pages)
                     + " pages committed before it)";
  return stopped;
}

/// A finished import as an outcome: what it did, and why it stopped.
import_outcome full_outcome_of(const import_report& report, bool strict) {
  return {api::to_public(report), api::stop_reason(report, strict)};
}

::catchup::import_progress_fn progress_of(engine::import_progress_fn progress) {
  if (!progress)
    return {};
  return [progress = std::move(progress)](
           const import_report& r, const std::vector<import_problem>&) {
    try {
      progress(api::to_public(r));
    } catch (...) {
      // The host's progress callback failing must not stop the import.
    }
  };
}

/// Hands every committed page to `progress` with the page's bad items.
::catchup::import_progress_fn page_progress_of(engine::import_page_fn progress) {
  if (!progress)
    return {};
  return [progress = std::move(progress)](
           const import_report& r, const std::vector<import_problem>& page) {
    try {
      progress(api::to_public(r), api::to_public(page));
    } catch (...) {
      // The host's progress callback failing must not stop the import.
    }
  };
}

result<import_summary> import_file_on(engine::impl* d, const std::string& path,
                                      const import_params& params,
                                      engine::import_progress_fn progress) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<import_summary>(
    [&]() -> result<import_summary> {
      auto request = request_of(path, params, false);
      if (!request)
        return request.error();
      auto report = d->core->import_file(*request,
                                         progress_of(std::move(progress)));
      return outcome_of(report, params.strict);
    },
    input_means::data);
}

} // namespace

result<import_summary> engine::import_file(const std::string& path,
                                           const import_params& params,
                                           import_progress_fn progress) {
  return import_file_on(impl_.get(), path, params, std::move(progress));
}

std::future<result<import_summary>>
engine::import_file_async(const std::string& path, const import_params& params,
                          import_progress_fn progress) {
  if (!impl_)
    return api::closed_future<import_summary>();
  return impl_->post_future<import_summary>(
    [d = impl_.get(), path, params, progress = std::move(progress)] {
      return import_file_on(d, path, params, progress);
    });
}

result<import_summary> engine::import_stream(std::istream& in,
                                             const std::string& name,
                                             const import_params& params,
                                             import_progress_fn progress) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<import_summary>(
    [&]() -> result<import_summary> {
      auto request = request_of(name, params, true);
      if (!request)
        return request.error();
      // A second stream on the caller's buffer: the engine reads through
      // it and the caller's stream stays the caller's.
      auto reader = std::make_unique<std::istream>(in.rdbuf());
      auto report = impl_->core->import_stream(
        *request, std::move(reader), progress_of(std::move(progress)));
      return outcome_of(report, params.strict);
    },
    input_means::data);
}

result<import_outcome>
engine::import_file_outcome(const std::string& path,
                            const import_params& params,
                            import_page_fn progress) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<import_outcome>(
    [&]() -> result<import_outcome> {
      auto request = request_of(path, params, false);
      if (!request)
        return request.error();
      auto report = impl_->core->import_file(
        *request, page_progress_of(std::move(progress)));
      return full_outcome_of(report, params.strict);
    },
    input_means::data);
}

result<import_outcome> engine::sync_google(const google_sync_params& params,
                                           import_page_fn progress) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<import_outcome>(
    [&]() -> result<import_outcome> {
      auto report = impl_->core->sync_google(
        api::to_internal(params), page_progress_of(std::move(progress)));
      return full_outcome_of(report, params.strict);
    },
    input_means::data);
}

} // namespace catchup
