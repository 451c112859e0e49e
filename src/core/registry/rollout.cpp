// Deterministic traffic splitting for champion/challenger rollouts.
#include "core/registry/rollout.hpp"

#include "core/common/error.hpp"
#include "core/common/xxhash.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace pg_learn::core {

double route_fraction(std::string_view model, std::string_view key) {
    std::string buf;
    buf.reserve(model.size() + 1 + key.size());
    buf.append(model);
    buf.push_back('\0');
    buf.append(key);
    uint64_t h = xxh64(buf.data(), buf.size());
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

void check_shares(const std::vector<double>& shares) {
    double total = 0;
    for (double s : shares) {
        if (!(s > 0 && s < 1)) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", s);
            fail(ErrorKind::InvalidParameter, std::string("traffic share ") + buf + " is not between 0 and 1",
                 {}, "A challenger's share is a fraction of the keys, strictly between 0 and 1.");
        }
        total += s;
    }
    if (!(total < 1)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", total);
        fail(ErrorKind::InvalidParameter, std::string("the challengers' traffic shares add up to ") + buf,
             {}, "The champion serves what the challengers do not: their shares must add up to less than 1.");
    }
}

size_t route(double fraction, const std::vector<double>& shares) {
    double upper = 0;
    for (size_t i = 0; i < shares.size(); i++) {
        upper += shares[i];
        if (fraction < upper) return i;
    }
    return shares.size();
}

}  // namespace pg_learn::core
