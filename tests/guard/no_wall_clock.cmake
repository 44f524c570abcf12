# The one-clock guard: fails, naming file:line, when a source file reads the
# system's real-time clock anywhere but core/clock.cpp. The engine's "now"
# comes from its injectable clock (core/clock.hpp) or from its caller; a
# stray read is how a test comes to depend on the day it runs. Monotonic
# clocks (steady_clock, CLOCK_MONOTONIC) for durations stay allowed.
#
#   cmake -DROOT=<dir> [-DALLOWED=<path relative to ROOT>] -P no_wall_clock.cmake

if(NOT ROOT)
  message(FATAL_ERROR "no_wall_clock: pass -DROOT=<source dir>")
endif()

# Each a way to read wall time in C or C++ or through a library we link
# (high_resolution_clock is system_clock in libstdc++; CAF's
# make_timestamp and libical's icaltime_today read it too), or to name the
# system clock under another name. Comments are scanned as well: a
# sentence that names a way to read the clock is worth rewording.
set(patterns
  "system_clock[ \t]*::[ \t]*now"
  "system_clock[ \t]*(\\{\\}|\\(\\))[ \t]*\\.[ \t]*now"
  "(using|typedef).*system_clock"
  "high_resolution_clock"
  "(utc|tai|gps|file)_clock[ \t]*::[ \t]*now"
  "(^|[^a-z_:.])time[ \t]*\\([ \t]*(nullptr|NULL|0|&)"
  "std::time[ \t]*\\("
  "::time[ \t]*\\("
  "gettimeofday"
  "CLOCK_REALTIME"
  "CLOCK_TAI"
  "clock_gettime[ \t]*\\([ \t]*0[ \t]*,"
  "(^|[^a-z_])ftime[ \t]*\\("
  "timespec_get"
  "icaltime_(today|current)"
  "make_timestamp"
)

file(GLOB_RECURSE sources RELATIVE "${ROOT}"
  "${ROOT}/*.cpp" "${ROOT}/*.hpp" "${ROOT}/*.h" "${ROOT}/*.cc"
  "${ROOT}/*.c" "${ROOT}/*.cpp.in" "${ROOT}/*.hpp.in")

set(found "")
set(scanned 0)
foreach(path IN LISTS sources)
  # Build trees and fetched code are not ours; the guard's own planted
  # file is scanned only when it is the root (the guard's self-test).
  if(path MATCHES "^(build[^/]*|\\.[^/]*)/" OR path MATCHES "/planted/"
     OR path STREQUAL "${ALLOWED}")
    continue()
  endif()
  math(EXPR scanned "${scanned} + 1")
  # One list element per line: characters a CMake list would read as
  # separators, escapes or brackets are neutralised first, so that line
  # numbers stay right.
  file(READ "${ROOT}/${path}" content)
  string(REPLACE "\\" "/" content "${content}")
  string(REPLACE ";" "," content "${content}")
  string(REPLACE "[" "<" content "${content}")
  string(REPLACE "]" ">" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    foreach(pattern IN LISTS patterns)
      if(line MATCHES "${pattern}")
        string(STRIP "${line}" shown)
        string(APPEND found "  ${path}:${number}: ${shown}\n")
        break()
      endif()
    endforeach()
  endforeach()
endforeach()

if(scanned EQUAL 0)
  message(FATAL_ERROR "no_wall_clock: no source file under ${ROOT}")
endif()
if(found)
  message(FATAL_ERROR "the system clock is read outside core/clock.cpp; "
    "take \"now\" from the engine's wall_clock (core/clock.hpp) or from "
    "the caller instead, and steady_clock for durations:\n${found}")
endif()
message(STATUS "no_wall_clock: ${scanned} source files read no wall clock")
