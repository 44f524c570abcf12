#!/usr/bin/env bash
# One entry point for people and CI. Every command first installs the Debian
# packages the project needs (apt-get, when run as root; otherwise it prints
# the exact command), then configures and builds with CMake, Ninja and ccache.
#
#   ./dev.sh demo [ARGS...]   build, then run the main job (catchup demo)
#   ./dev.sh test             build, then run the whole test suite (ctest)
#   ./dev.sh test-asan        build with ASan+UBSan, then run the suite again
#   ./dev.sh fuzz [SECONDS]   build the libFuzzer targets (clang) into
#                             build-fuzz/, run each SECONDS (60) from copies of
#                             the real samples; fails on any crash/leak/timeout
#   ./dev.sh build            build only
#   ./dev.sh deps             install the packages only
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  g++ cmake ninja-build ccache pkg-config git acl tzdata
  libcaf-dev libpqxx-dev libpq-dev libspdlog-dev libfmt-dev
  libboost-test-dev postgresql-15 libjemalloc-dev nlohmann-json3-dev
  libcli11-dev libhowardhinnant-date-dev libical-dev libcpp-httplib-dev
  prometheus openssl iproute2
)

# Only `./dev.sh fuzz` needs clang and its libFuzzer runtime.
fuzz_packages=(clang libclang-rt-14-dev)

deps() { # deps [EXTRA_PACKAGES...]
  local missing=()
  for p in "${packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
      | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "dev.sh: missing Debian packages: ${missing[*]}" >&2
    echo "dev.sh: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "dev.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

jobs=$(nproc 2>/dev/null || echo 2)
# ccache: paths inside the checkout are hashed relative to it, so another
# clone of the repository (a CI run, a second worktree) reuses the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

build() { # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCATCHUP_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# -- fuzzing -------------------------------------------------------------------
# The three libFuzzer targets of tests/fuzz/, each with the sources of the
# reader it drives (and of core/ that it uses) and the libraries it links.
fuzz_targets=(vcard contacts_csv icalendar)
declare -A fuzz_sources=(
  [vcard]="formats/vcard.cpp core/utf8.cpp core/contact_date.cpp"
  [contacts_csv]="formats/contacts_csv.cpp core/utf8.cpp core/contact_date.cpp"
  [icalendar]="formats/icalendar.cpp formats/icalendar_lines.cpp
    formats/icalendar_zones.cpp formats/icalendar_events.cpp
    formats/icalendar_recurrence.cpp core/utf8.cpp")
declare -A fuzz_libs=([icalendar]="-lical")
# Seeds: the real samples under $CATCHUP_DATA_DIR/real (the test suites'
# ../shared/data), never copied into the repository.
declare -A fuzz_seeds=(
  [vcard]="vcard/*.vcf" [contacts_csv]="csv/*.csv" [icalendar]="ical/*.ics")

# shellcheck disable=SC2054 # the commas belong to -fsanitize
fuzz_cxxflags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -Wall -Wextra
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -I.)

fuzz_build() { # builds build-fuzz/<target>_fuzz for every target
  local out=build-fuzz cxx launcher=() objects=() pids=() t src obj
  cxx=$(command -v clang++ || command -v clang++-14) || {
    echo "dev.sh: clang++ not found" >&2
    exit 1
  }
  command -v ccache >/dev/null && launcher=(ccache)
  mkdir -p "$out/obj"
  # Every source once (utf8.cpp is shared), at most $jobs compilers at once.
  local all=() seen=" "
  for t in "${fuzz_targets[@]}"; do
    for src in tests/fuzz/${t}_fuzz.cpp ${fuzz_sources[$t]}; do
      [[ $seen == *" $src "* ]] && continue
      seen+="$src "
      all+=("$src")
    done
  done
  for src in "${all[@]}"; do
    obj="$out/obj/$(echo "$src" | tr / _).o"
    "${launcher[@]}" "$cxx" "${fuzz_cxxflags[@]}" -c "$src" -o "$obj" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then
      wait "${pids[0]}"
      pids=("${pids[@]:1}")
    fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for t in "${fuzz_targets[@]}"; do
    objects=()
    for src in tests/fuzz/${t}_fuzz.cpp ${fuzz_sources[$t]}; do
      objects+=("$out/obj/$(echo "$src" | tr / _).o")
    done
    # shellcheck disable=SC2086 # the library list splits on purpose
    "$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" ${fuzz_libs[$t]:-} \
      -o "$out/${t}_fuzz"
  done
}

fuzz() { # fuzz SECONDS
  local seconds=$1 out=build-fuzz t
  [[ $seconds =~ ^[1-9][0-9]*$ ]] || {
    echo "dev.sh: fuzz: SECONDS must be a positive number, not '$seconds'" >&2
    exit 2
  }
  local data=${CATCHUP_DATA_DIR:-../shared/data}
  fuzz_build
  rm -rf "$out/artifacts" "$out"/corpus-* "$out"/log-*
  mkdir -p "$out/artifacts"
  for t in "${fuzz_targets[@]}"; do
    local seeds=()
    mkdir "$out/corpus-$t"
    # shellcheck disable=SC2206 # the glob expands on purpose
    seeds=($data/real/${fuzz_seeds[$t]})
    if [ -e "${seeds[0]}" ]; then
      cp "${seeds[@]}" "$out/corpus-$t/"
    else
      echo "dev.sh: fuzz: no seeds in $data/real/${fuzz_seeds[$t]%/*}" \
        "(CATCHUP_DATA_DIR);" \
        "$t starts from an empty corpus" >&2
    fi
  done
  # All at once by default: each gets SECONDS of wall time (on 2 cores, a
  # share of one), and CI pays one minute, not one per target.
  local fuzz_jobs=${FUZZ_JOBS:-${#fuzz_targets[@]}}
  echo "dev.sh: fuzzing ${fuzz_targets[*]} for ${seconds}s each," \
    "$fuzz_jobs at a time" >&2
  local running=() rc=0 pid
  trap 'kill "${running[@]}" 2>/dev/null; exit 130' INT TERM
  for t in "${fuzz_targets[@]}"; do
    if [ ${#running[@]} -ge "$fuzz_jobs" ]; then
      wait -n "${running[@]}" || true
      local still=()
      for pid in "${running[@]}"; do
        kill -0 "$pid" 2>/dev/null && still+=("$pid")
      done
      running=("${still[@]}")
    fi
    (
      set +e
      ASAN_OPTIONS=detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/${t}_fuzz" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$t-" "$out/corpus-$t" \
        >"$out/log-$t.txt" 2>&1
      echo $? >"$out/log-$t.rc"
    ) &
    running+=($!)
  done
  wait
  trap - INT TERM
  printf '%-14s %12s %10s  %s\n' target execs exec/s result
  for t in "${fuzz_targets[@]}"; do
    local log="$out/log-$t.txt" code execs speed
    code=$(cat "$out/log-$t.rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ "$code" = 0 ]; then
      printf '%-14s %12s %10s  %s\n' "$t" "${execs:-?}" "${speed:-?}" ok
    else
      rc=1
      printf '%-14s %12s %10s  %s\n' "$t" "${execs:-?}" "${speed:-?}" \
        "FAILED (exit $code, log $log)"
    fi
  done
  if [ $rc -ne 0 ]; then
    for t in "${fuzz_targets[@]}"; do
      [ "$(cat "$out/log-$t.rc" 2>/dev/null || echo 1)" = 0 ] && continue
      echo "---- $t: the end of $out/log-$t.txt" >&2
      tail -n 40 "$out/log-$t.txt" >&2
    done
    echo "dev.sh: fuzz: inputs that failed are in $out/artifacts/" >&2
    exit 1
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  deps)
    deps ;;
  build)
    deps
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo ;;
  demo)
    deps
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    exec build/app/catchup demo "$@" ;;
  test)
    deps
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    ctest --test-dir build --output-on-failure -j "$jobs" ;;
  test-asan)
    deps
    build build-asan -DCMAKE_BUILD_TYPE=Debug \
      -DCATCHUP_SANITIZERS=address,undefined
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs" ;;
  fuzz)
    deps "${fuzz_packages[@]}"
    fuzz "${1:-60}" ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2 ;;
esac
