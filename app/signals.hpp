// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

namespace catchup::app {

/// Routes SIGINT and SIGTERM to one thread that runs the cleanup registered
/// last (e.g. stopping a private PostgreSQL server we started) and then ends
/// the process with 128 + signal. Call first thing in main, before any other
/// thread exists, so that every later thread inherits the blocked mask.
void install_signal_thread();

/// Sets what to do on SIGINT or SIGTERM; an empty function clears it.
void on_interrupt(std::function<void()> cleanup);

/// Like `on_interrupt`, but the function returns the process's exit code
/// (a node that shut down gracefully exits 0).
void on_interrupt_exit(std::function<int(int signal)> shutdown);

/// Sets what to do on SIGHUP (the process keeps running); empty: ignore.
void on_hangup(std::function<void()> reload);

/// Returns `exit_code` from main, unless an interrupt is being handled:
/// then it waits for the signal thread, which ends the process itself.
int finish(int exit_code);

} // namespace catchup::app
