// SPDX-License-Identifier: Apache-2.0
#include "core/top_k.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <utility>

namespace catchup {

namespace {

// The heap algorithms put the greatest element under the comparator at the
// front; with ranks_before as "less", the greatest is the worst candidate.
bool heap_less(const candidate& a, const candidate& b) noexcept {
  return ranks_before(a, b);
}

} // namespace

top_k::top_k(std::size_t k) noexcept : k_(k) {
}

bool top_k::offer(candidate c) {
  if (heap_.size() < k_) {
    // Grow by doubling but never past K, so capacity stays bounded by K
    // rather than by twice K, without reserving K up front (K may be a
    // generous cap that is rarely reached).
    if (heap_.size() == heap_.capacity())
      heap_.reserve(std::min(k_, std::max<std::size_t>(8, 2 * heap_.size())));
    heap_.push_back(std::move(c));
    std::push_heap(heap_.begin(), heap_.end(), heap_less);
    CATCHUP_ASSERT(heap_.size() <= k_, "top_k keeps at most K candidates");
    return true;
  }
  if (k_ == 0 || !ranks_before(c, heap_.front()))
    return false;
  std::pop_heap(heap_.begin(), heap_.end(), heap_less);
  heap_.back() = std::move(c);
  std::push_heap(heap_.begin(), heap_.end(), heap_less);
  return true;
}

const candidate* top_k::worst() const noexcept {
  return heap_.empty() ? nullptr : &heap_.front();
}

std::vector<candidate> top_k::take_sorted() {
  // A broken heap would have dropped a better candidate than the one on
  // top, and sorting it would not show.
  CATCHUP_ASSERT(std::is_heap(heap_.begin(), heap_.end(), heap_less),
                 "the kept candidates form a heap with the worst on top");
  // sort_heap leaves the range ascending under the comparator: best first.
  std::sort_heap(heap_.begin(), heap_.end(), heap_less);
  std::vector<candidate> sorted;
  sorted.swap(heap_);
  return sorted;
}

void top_k::shrink(std::size_t new_k) {
  k_ = new_k;
  if (heap_.size() <= k_)
    return;
  while (heap_.size() > k_) {
    std::pop_heap(heap_.begin(), heap_.end(), heap_less);
    heap_.pop_back();
  }
  // The point of shrinking is memory pressure: give the storage back.
  heap_.shrink_to_fit();
  CATCHUP_ASSERT(heap_.size() <= k_, "a shrunk top_k keeps at most K");
}

} // namespace catchup
