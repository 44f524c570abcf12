// SPDX-License-Identifier: Apache-2.0
// The iCalendar reader (formats/icalendar.hpp): the loop over a calendar's
// components, and the reading of one VEVENT or VTIMEZONE, its lines handed
// to libical's parser as they come (only those the record needs), nested
// components counted, sizes and clean text checked. What the component
// then becomes is up to icalendar_events.cpp and icalendar_zones.cpp.
#include "formats/icalendar_detail.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <mutex>

namespace catchup {
using namespace icalendar_detail;
namespace {

using text::trim;

/// Raw bytes of a line kept to build its excerpt if it turns out bad.
constexpr std::size_t excerpt_source_bytes = 128;

/// The names of the event properties, in the order of `event_property`.
constexpr std::string_view event_property_names[] = {
    "UID",     "DTSTART",  "DTEND",         "DURATION", "RRULE",
    "RDATE",   "EXDATE",   "RECURRENCE-ID", "STATUS",   "TRANSP",
    "SUMMARY", "LOCATION", "ATTENDEE",      "ORGANIZER"};

event_property event_property_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i < event_property_count; ++i)
    if (iequals(event_property_names[i], name))
      return static_cast<event_property>(i);
  return event_property::none;
}

/// Properties whose loss changes when or whether the event happens: a
/// value libical cannot parse there skips the event. Elsewhere (an empty
/// SUMMARY, an unknown STATUS) libical drops the property and the event
/// goes on without it.
bool loss_is_fatal(event_property p) noexcept {
  return p <= event_property::recurrence_id;
}

/// The VTIMEZONE properties handed to libical, by nesting depth.
bool is_timezone_property(std::string_view name, int depth) noexcept {
  if (depth == 1)
    return iequals(name, "TZID") || iequals(name, "X-LIC-LOCATION");
  return iequals(name, "DTSTART") || iequals(name, "TZOFFSETFROM") ||
         iequals(name, "TZOFFSETTO") || iequals(name, "RRULE") ||
         iequals(name, "RDATE") || iequals(name, "TZNAME");
}

bool timezone_loss_is_fatal(std::string_view name) noexcept {
  return !iequals(name, "TZNAME") && !iequals(name, "X-LIC-LOCATION");
}

void init_libical() {
  static std::once_flag once;
  std::call_once(once, [] { icalerror_set_errors_are_fatal(0); });
}

/// libical's message for the property `name`, without "Removing entire
/// property" and the offending text, which the excerpt shows. libical puts
/// X-LIC-ERROR in the component the line was in (a VTIMEZONE's STANDARD).
std::string libical_message(icalcomponent *top, const std::string &name) {
  std::string fallback;
  const std::string needle = " " + name + " property";
  std::vector<icalcomponent *> components{top};
  for (icalcomponent *sub =
           icalcomponent_get_first_component(top, ICAL_ANY_COMPONENT);
       sub != nullptr;
       sub = icalcomponent_get_next_component(top, ICAL_ANY_COMPONENT))
    components.push_back(sub);
  for (icalcomponent *c : components)
    for (icalproperty *p =
             icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
      const char *text = icalproperty_get_xlicerror(p);
      std::string_view message = text != nullptr ? text : "";
      const std::size_t removing = message.find(". Removing entire property");
      if (removing != std::string_view::npos)
        message = message.substr(0, removing);
      else
        message = message.substr(0, message.find(": "));
      std::string clean = printable_excerpt(message, 200);
      if (message.find(needle) != std::string_view::npos)
        return clean;
      if (fallback.empty())
        fallback = std::move(clean);
    }
  return fallback.empty() ? "the value cannot be parsed" : fallback;
}

/// Lines that cannot be inside a VEVENT or VTIMEZONE: seen there, they
/// mean its END is missing, and they start the next round.
bool is_boundary(const content_line &c) noexcept {
  if (c.type == content_line::kind::begin)
    return c.component == "VEVENT" || c.component == "VTIMEZONE" ||
           c.component == "VCALENDAR";
  return c.type == content_line::kind::end && c.component == "VCALENDAR";
}

/// Folds `text` into the hash that recognises a repeated VTIMEZONE.
void mix_hash(std::size_t &hash, std::string_view text) {
  hash ^= std::hash<std::string_view>{}(text) + 0x9e3779b9 + (hash << 6);
}

} // namespace

/// Where the reading of one VEVENT or VTIMEZONE has got to.
struct icalendar_reader::state::open_component {
  bool event = false;
  /// "VEVENT" or "VTIMEZONE".
  std::string kind;
  /// Copied: the BEGIN line itself is reused by the lines that follow.
  std::size_t begin_number = 0;
  std::string begin_excerpt;
  /// Bytes read so far, the BEGIN line included.
  std::size_t size = 0;
  /// Components open, this one included.
  int depth = 1;
  /// The STANDARD or DAYLIGHT open in a VTIMEZONE, or empty.
  std::string observance;
};

icalendar_reader::state::state(std::istream &stream, std::int64_t from,
                               std::int64_t to, icalendar_limits l)
    : window_from(clamp_unix(from)), window_to(clamp_unix(to)), limits(l),
      lines(stream, l.line_bytes_max, l.component_bytes_max),
      parser(icalparser_new()) {
  init_libical();
  window_to = std::max(window_to, window_from);
  // The window's years, not the calendar's: what is read must not
  // depend on the day it is read (the window is around the caller's
  // "now").
  const auto window_start_year = static_cast<int>(
      civil_from_days(floor_div(window_from, seconds_per_day)).year);
  const auto window_end_year = static_cast<int>(
      civil_from_days(floor_div(window_to, seconds_per_day)).year);
  conversion_year_max =
      std::min(zone_conversion_year_cap,
               std::max(window_start_year + libical_zone_extra_years,
                        window_end_year + 1));
}

icalendar_reader::state::~state() {
  for (auto &[name, z] : file_zones)
    icaltimezone_free(z.zone, 1);
}

icalendar_error icalendar_reader::state::error_at(std::size_t number,
                                                  std::string reason,
                                                  std::string_view text) const {
  return icalendar_error{number, std::move(reason), printable_excerpt(text)};
}

void icalendar_reader::state::reset_parser() {
  parser.reset(icalparser_new());
}

icalcomponent *icalendar_reader::state::feed(std::string &text) {
  return icalparser_add_line(parser.get(), text.data());
}

icalcomponent *icalendar_reader::state::feed_marker(const char *marker) {
  std::string text = marker;
  return feed(text);
}

/// Skips what is left of a component after an error, up to its END or
/// to a line that starts the next round.
void icalendar_reader::state::skip_rest(int depth, const std::string &kind) {
  while (depth > 0 && lines.peek()) {
    const content_line c = classify(lines.peeked().text);
    if (is_boundary(c))
      return;
    lines.take();
    if (c.type == content_line::kind::begin)
      ++depth;
    else if (c.type == content_line::kind::end)
      depth = c.component == kind ? 0 : depth - 1;
  }
}

icalendar_error
icalendar_reader::state::line_too_long(const logical_line &l) const {
  return error_at(l.overflow_line,
                  "line longer than " + std::to_string(limits.line_bytes_max) +
                      " bytes",
                  l.text);
}

/// Ends a read on an error: drops what libical holds and skips the rest
/// of the component.
auto icalendar_reader::state::failed(component_read r, const open_component &o,
                                     icalendar_error e) -> component_read {
  r.error = std::move(e);
  r.component.reset();
  reset_parser();
  skip_rest(o.depth, o.kind);
  return r;
}

/// Ends a read whose END never came: at the end of input (`next` null)
/// or at `next`, a line that starts the next round.
auto icalendar_reader::state::unfinished(component_read r,
                                         const open_component &o,
                                         const content_line *next)
    -> component_read {
  std::string reason = o.kind + " has no END:" + o.kind;
  if (next != nullptr)
    reason += std::string(" (next ") +
              (next->type == content_line::kind::begin ? "BEGIN:" : "END:") +
              next->component + " at line " +
              std::to_string(lines.peeked().number) + ")";
  r.error = icalendar_error{o.begin_number, std::move(reason), o.begin_excerpt};
  reset_parser();
  return r;
}

/// The error of a line over line_bytes_max or of a component that has
/// grown past component_bytes_max with it, if any.
std::optional<icalendar_error>
icalendar_reader::state::size_problem(const open_component &o,
                                      const logical_line &l) const {
  if (l.overflow_line != 0)
    return line_too_long(l);
  if (o.size > limits.component_bytes_max)
    return error_at(l.number,
                    o.kind + " longer than " +
                        std::to_string(limits.component_bytes_max) + " bytes",
                    l.text);
  return std::nullopt;
}

/// A BEGIN inside the component: a VTIMEZONE's STANDARD or DAYLIGHT
/// goes to libical, anything else is only counted.
void icalendar_reader::state::open_nested(component_read &r, open_component &o,
                                          const content_line &c) {
  ++o.depth;
  if (o.event || o.depth != 2 ||
      (c.component != "STANDARD" && c.component != "DAYLIGHT"))
    return;
  o.observance = c.component;
  feed_marker(o.observance == "STANDARD" ? "BEGIN:STANDARD" : "BEGIN:DAYLIGHT");
  mix_hash(r.text_hash, o.observance);
}

/// An END: closes an observance, a nested component, or the component
/// itself, which libical then hands over (true).
bool icalendar_reader::state::close_nested(component_read &r, open_component &o,
                                           const content_line &c) {
  const bool closes = o.depth == 1 || c.component == o.kind;
  if (!o.observance.empty() && (closes || o.depth == 2)) {
    feed_marker(o.observance == "STANDARD" ? "END:STANDARD" : "END:DAYLIGHT");
    o.observance.clear();
  }
  if (!closes) {
    --o.depth;
    return false;
  }
  r.component.reset(feed_marker(o.event ? "END:VEVENT" : "END:VTIMEZONE"));
  if (!r.component) {
    r.error =
        icalendar_error{o.begin_number, "libical could not read the " + o.kind,
                        o.begin_excerpt};
    reset_parser();
  }
  return true;
}

/// Whether a property is handed on: a VEVENT's own properties that the
/// record needs (`p` says which), a VTIMEZONE's TZID and the rules of
/// its observances.
bool icalendar_reader::state::is_wanted(const open_component &o,
                                        const content_line &c,
                                        event_property &p) {
  if (o.event) {
    if (o.depth != 1)
      return false;
    p = event_property_of(c.name);
    return p != event_property::none;
  }
  return (o.depth == 1 || !o.observance.empty()) && o.depth <= 2 &&
         is_timezone_property(c.name, o.depth);
}

/// Keeps the first line of a property whose loss is fatal, for the
/// errors about its value.
void icalendar_reader::state::remember_source(event_property p,
                                              const logical_line &l) {
  source_line &s = sources[static_cast<std::size_t>(p)];
  if (s.number != 0)
    return;
  s.number = l.number;
  s.head.assign(l.text, 0, excerpt_source_bytes);
  s.name = event_property_names[static_cast<std::size_t>(p)];
}

/// One property line of the component: handed to libical only if the
/// record needs it; an error if it is not clean text.
std::optional<icalendar_error>
icalendar_reader::state::read_property(component_read &r,
                                       const open_component &o, logical_line &l,
                                       const content_line &c) {
  event_property p = event_property::none;
  if (!is_wanted(o, c, p))
    return std::nullopt;
  if (!is_clean_text(l.text))
    return error_at(l.number,
                    (l.text.find('\0') != std::string::npos
                         ? "NUL byte in "
                         : "invalid UTF-8 in ") +
                        upper(c.name),
                    l.text);
  if (!o.event)
    mix_hash(r.text_hash, l.text);
  const bool fatal =
      o.event ? loss_is_fatal(p) : timezone_loss_is_fatal(c.name);
  if (o.event && fatal)
    remember_source(p, l);
  if (p == event_property::attendee || p == event_property::organizer) {
    add_attendee(l.text);
    return std::nullopt;
  }
  feed(l.text);
  if (fatal && !r.dropped &&
      icalparser_get_state(parser.get()) == ICALPARSER_ERROR)
    r.dropped = source_line{l.number, l.text.substr(0, excerpt_source_bytes),
                            upper(c.name)};
  return std::nullopt;
}

/// Reads the VEVENT or VTIMEZONE that `begin` opened, handing the lines
/// that matter to libical as they come, so the component's text is never
/// held whole.
auto icalendar_reader::state::read_component(const logical_line &begin,
                                             bool event) -> component_read {
  component_read r;
  open_component o;
  o.event = event;
  o.kind = event ? "VEVENT" : "VTIMEZONE";
  o.begin_number = begin.number;
  o.begin_excerpt = printable_excerpt(begin.text);
  o.size = begin.bytes;
  if (begin.overflow_line != 0)
    return failed(std::move(r), o, line_too_long(begin));
  if (event) {
    for (source_line &s : sources)
      s.number = 0;
    attendees.clear();
  }
  feed_marker(event ? "BEGIN:VEVENT" : "BEGIN:VTIMEZONE");
  for (;;) {
    if (!lines.peek())
      return unfinished(std::move(r), o, nullptr);
    content_line c = classify(lines.peeked().text);
    if (is_boundary(c))
      return unfinished(std::move(r), o, &c);
    logical_line &l = lines.take();
    c.name = std::string_view(l.text).substr(0, c.name.size()); // moved
    o.size += l.bytes;
    if (auto e = size_problem(o, l))
      return failed(std::move(r), o, std::move(*e));
    if (c.type == content_line::kind::begin) {
      open_nested(r, o, c);
    } else if (c.type == content_line::kind::end) {
      if (close_nested(r, o, c))
        return r;
    } else if (auto e = read_property(r, o, l, c)) {
      return failed(std::move(r), o, std::move(*e));
    }
  }
}

/// The error for a property libical could not parse and dropped.
icalendar_error
icalendar_reader::state::dropped_error(const source_line &dropped,
                                       icalcomponent *component) const {
  return error_at(dropped.number,
                  "bad " + dropped.name + " (libical: " +
                      libical_message(component, dropped.name) + ")",
                  dropped.head);
}

/// Returns what the last VEVENT left to produce, if anything.
bool icalendar_reader::state::emit(calendar_event_item &out,
                                   std::optional<icalendar_error> &error) {
  if (base_pending) {
    out = std::move(base);
    base = calendar_event_item{};
    base_pending = false;
    return true;
  }
  if (next_instance < instances.size()) {
    const auto &[start, i] = instances[next_instance];
    out = base;
    out.external_id = base.series_id + "/" + i.key;
    out.start_unix_s = start;
    out.end_unix_s = i.end_unix_s;
    if (++next_instance == instances.size()) {
      instances.clear();
      next_instance = 0;
      base = calendar_event_item{};
    }
    return true;
  }
  if (error_after) {
    error = std::move(error_after);
    error_after.reset();
    return true;
  }
  return false;
}

bool icalendar_reader::state::next(calendar_event_item &out,
                                   std::optional<icalendar_error> &error) {
  out = calendar_event_item{};
  error.reset();
  for (;;) {
    if (emit(out, error))
      return true;
    if (finished || !lines.peek()) {
      finished = true;
      return false;
    }
    if (!seen_calendar) {
      const logical_line &ahead = lines.peeked();
      if (ahead.overflow_line == 0 && trim(ahead.text).empty()) {
        lines.take();
        continue;
      }
      const content_line c = classify(ahead.text);
      if (ahead.overflow_line != 0 || c.type != content_line::kind::begin ||
          c.component != "VCALENDAR") {
        finished = true;
        error = error_at(1, "not an iCalendar file", ahead.text);
        return true;
      }
      seen_calendar = true;
      lines.take();
      continue;
    }
    const logical_line &l = lines.take();
    const content_line c = classify(l.text);
    if (c.type != content_line::kind::begin)
      continue; // calendar properties, END:VCALENDAR, stray lines
    std::optional<icalendar_error> e;
    if (c.component == "VEVENT")
      e = add_event(l);
    else if (c.component == "VTIMEZONE")
      e = add_timezone(l);
    else if (c.component != "VCALENDAR")
      skip_rest(1, c.component); // VTODO, VJOURNAL, VFREEBUSY, X-…
    if (e) {
      error = std::move(e);
      return true;
    }
  }
}

icalendar_reader::icalendar_reader(std::istream &in,
                                   std::int64_t window_from_unix_s,
                                   std::int64_t window_to_unix_s,
                                   icalendar_limits limits)
    : state_(std::make_unique<state>(in, window_from_unix_s, window_to_unix_s,
                                     limits)) {
}

icalendar_reader::~icalendar_reader() = default;

bool icalendar_reader::next(calendar_event_item &out,
                            std::optional<icalendar_error> &error) {
  return state_->next(out, error);
}

std::size_t icalendar_reader::line() const noexcept {
  return state_->lines.line();
}

std::uint64_t icalendar_reader::bytes_read() const noexcept {
  return state_->lines.bytes_read();
}

std::uint64_t icalendar_reader::events_outside_window() const noexcept {
  return state_->outside;
}

} // namespace catchup
