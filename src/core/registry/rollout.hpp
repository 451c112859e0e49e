// Traffic splitting between a champion and its challengers: a deterministic place in [0, 1) per
// (model name, key), and the variant that owns it.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// The key's place in [0, 1) for a model: the top 53 bits of XXH64 over the model name, a zero
// byte and the key, divided by 2^53. The same (model, key) always gets the same place, on any
// host; different models split the same keys independently.
double route_fraction(std::string_view model, std::string_view key);

// Challengers own consecutive slices of [0, 1) in the order given: the first [0, s1), the next
// [s1, s1 + s2), and so on; the champion owns the rest. Returns the index of the challenger whose
// slice holds fraction, or shares.size() for the champion. Shares must be in (0, 1) and sum
// to less than 1 (InvalidParameter otherwise).
size_t route(double fraction, const std::vector<double>& shares);

// Throws InvalidParameter unless every share is in (0, 1) and they sum to less than 1.
void check_shares(const std::vector<double>& shares);

}  // namespace pg_learn::core
