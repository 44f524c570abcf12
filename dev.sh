#!/usr/bin/env bash
# One entry point for people and CI. Every command first installs the Debian
# packages the project needs (apt-get, when run as root; otherwise it prints
# the exact command), then configures and builds with CMake, Ninja and ccache.
#
#   ./dev.sh demo [ARGS...]   build, then run the main job (catchup demo)
#   ./dev.sh test             build, then run the whole test suite (ctest)
#   ./dev.sh test-asan        build with ASan+UBSan, then run the suite again
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

deps() {
  local missing=()
  for p in "${packages[@]}"; do
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

build() { # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCATCHUP_WARNINGS_AS_ERRORS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
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
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2 ;;
esac
