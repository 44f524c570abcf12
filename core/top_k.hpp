// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <vector>

#include "core/priority.hpp"

namespace catchup {

/// Keeps the K best candidates under `ranks_before` out of any number
/// offered, in O(log K) time per offer and memory for at most K candidates.
///
/// A binary heap whose top is the worst candidate kept: a new candidate is
/// compared with that one alone, and replaces it if it ranks before it.
class top_k {
public:
  /// Keeps at most `k` candidates; with k = 0 it keeps nothing.
  explicit top_k(std::size_t k) noexcept;

  /// Offers a candidate; true if it is kept (possibly dropping the worst).
  bool offer(candidate c);

  /// The number of candidates kept.
  std::size_t size() const noexcept { return heap_.size(); }

  /// K: the most candidates kept.
  std::size_t capacity() const noexcept { return k_; }

  /// True when K candidates are kept, so an offer must beat `worst()`.
  bool full() const noexcept { return heap_.size() >= k_; }

  /// The worst candidate kept; nullptr if none.
  const candidate* worst() const noexcept;

  /// The candidates kept, best first; leaves this empty with the same K.
  std::vector<candidate> take_sorted();

  /// Lowers (or raises) K to `new_k`, dropping the worst candidates until at
  /// most `new_k` remain, and releases the memory they used.
  void shrink(std::size_t new_k);

private:
  std::size_t k_;
  // A max-heap under ranks_before: front() is the candidate ranked last.
  std::vector<candidate> heap_;
};

} // namespace catchup
