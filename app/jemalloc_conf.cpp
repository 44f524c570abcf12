// SPDX-License-Identifier: Apache-2.0
// jemalloc's compiled-in options for the `catchup` binary (MALLOC_CONF in
// the environment still overrides them).
//
// One arena and no thread caches: the engine's threads (CAF workers, one
// per database connection) allocate little and briefly, and per-thread
// caches plus one arena per CPU kept about 1 MiB more resident for nothing.
// Measured with `catchup bench --scenarios S1,S3,S5`: default options gave
// 16.4 MiB idle and +520 KiB peak from 1,318 to 1,000,000 contacts; these
// give 15.2 MiB idle and a flat peak (-8 KiB), and generation is no slower.

extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "narenas:1,tcache:false";
}
