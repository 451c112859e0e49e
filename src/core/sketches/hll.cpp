// HyperLogLog registers, estimators (raw, linear counting, Ertl) and the validated binary form.
#include "core/sketches/hll.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/xxhash.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;

namespace {

// magic "PLHL", version, then precision, encoding, register count;
// no length nor checksum: the enclosing ml_stats value has them.
constexpr HeaderSpec kHeader{"HyperLogLog sketch", {'P', 'L', 'H', 'L'}, 1, 12,
                             LengthField::None, 0, ChecksumKind::None, 0, 0,
                             HeaderWording::Brief};
constexpr uint8_t kDense = 0, kSparse = 1;
constexpr size_t kHeaderSize = kHeader.size;

// HLL++ (Heule et al. 2013), fig. "Empirically determined threshold" for p = 4..18: below
// this, linear counting beats the (bias-corrected) HLL estimate.
constexpr double kThreshold[] = {10,    20,    40,    80,    220,   400,    900,    1800,
                                 3100,  6500,  11500, 20000, 50000, 120000, 350000};

void check_p(unsigned p) {
    if (p < kHllMinPrecision || p > kHllMaxPrecision)
        fail(ErrorKind::InvalidParameter,
             "HyperLogLog precision must be between " + std::to_string(kHllMinPrecision) +
                 " and " + std::to_string(kHllMaxPrecision),
             "p = " + std::to_string(p));
}

// Ertl 2017, algorithm 6: sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1).
double ertl_sigma(double x) {
    if (x == 1.0) return std::numeric_limits<double>::infinity();
    double y = 1.0, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3.
double ertl_tau(double x) {
    if (x == 0.0 || x == 1.0) return 0.0;
    double y = 1.0, z = 1.0 - x, prev;
    do {
        x = std::sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

}  // namespace

HyperLogLog::HyperLogLog(uint8_t p) : p_(p) {
    check_p(p);
    regs_.assign(size_t(1) << p, 0);
}

void HyperLogLog::add_hash(uint64_t hash) {
    const unsigned q = 64u - p_;
    const size_t idx = size_t(hash >> q);
    const uint64_t w = hash << p_;  // the q low bits, now on top; the p low bits are zero
    const uint8_t rank = w == 0 ? uint8_t(q + 1) : uint8_t(__builtin_clzll(w) + 1);
    if (rank > regs_[idx]) regs_[idx] = rank;
}

void HyperLogLog::add(const void* data, size_t len) { add_hash(xxh64(data, len, kHllHashSeed)); }

HyperLogLog HyperLogLog::folded(uint8_t p) const {
    // Register j at precision p_ covers hashes whose top p_ bits are j. At precision p < p_,
    // their index is j >> d (d = p_ - p) and their rank counts the d bits of j below it: if
    // those are not all zero, the rank is fixed by them; if all zero, it is d + the old rank.
    HyperLogLog out(p);
    const unsigned d = p_ - p;
    for (size_t j = 0; j < regs_.size(); j++) {
        if (regs_[j] == 0) continue;
        const uint64_t low = j & ((uint64_t(1) << d) - 1);
        uint8_t r;
        if (low == 0) {
            r = uint8_t(regs_[j] + d);
        } else {
            // Leading zeros of the d-bit field 'low'.
            r = uint8_t(__builtin_clzll(low) - (64 - d) + 1);
        }
        uint8_t& t = out.regs_[j >> d];
        if (r > t) t = r;
    }
    return out;
}

void HyperLogLog::merge(const HyperLogLog& o) {
    if (o.p_ < p_) {
        *this = folded(o.p_);
    }
    if (o.p_ > p_) {
        HyperLogLog f = o.folded(p_);
        for (size_t i = 0; i < regs_.size(); i++) regs_[i] = std::max(regs_[i], f.regs_[i]);
        return;
    }
    for (size_t i = 0; i < regs_.size(); i++) regs_[i] = std::max(regs_[i], o.regs_[i]);
}

bool HyperLogLog::empty() const { return nonzero() == 0; }

size_t HyperLogLog::nonzero() const {
    size_t c = 0;
    for (uint8_t r : regs_) c += r != 0;
    return c;
}

double HyperLogLog::relative_standard_error(uint8_t p) {
    check_p(p);
    return 1.04 / std::sqrt(std::ldexp(1.0, p));
}

double HyperLogLog::estimate_raw() const {
    const double m = double(regs_.size());
    double sum = 0.0;
    for (uint8_t r : regs_) sum += std::ldexp(1.0, -int(r));
    double alpha;
    switch (p_) {
        case 4: alpha = 0.673; break;
        case 5: alpha = 0.697; break;
        case 6: alpha = 0.709; break;
        default: alpha = 0.7213 / (1.0 + 1.079 / m);
    }
    return alpha * m * m / sum;
}

double HyperLogLog::estimate_linear_counting() const {
    const double m = double(regs_.size());
    const size_t v = regs_.size() - nonzero();
    if (v == 0) return std::numeric_limits<double>::infinity();
    return m * std::log(m / double(v));
}

double HyperLogLog::estimate_ertl() const {
    const unsigned q = 64u - p_;
    std::vector<double> c(q + 2, 0.0);
    for (uint8_t r : regs_) c[r] += 1.0;
    const double m = double(regs_.size());
    double z = m * ertl_tau(1.0 - c[q + 1] / m);
    for (unsigned k = q; k >= 1; k--) z = 0.5 * (z + c[k]);
    z += m * ertl_sigma(c[0] / m);
    return m * m / (2.0 * std::log(2.0)) / z;
}

double HyperLogLog::estimate() const {
    const double lc = estimate_linear_counting();
    if (lc <= kThreshold[p_ - kHllMinPrecision]) return lc;
    const double m = double(regs_.size());
    const double raw = estimate_raw();
    return raw <= 5.0 * m ? estimate_ertl() : raw;
}

size_t HyperLogLog::serialized_size() const {
    const size_t nz = nonzero();
    const size_t sparse = 5 * nz, dense = regs_.size();
    return kHeaderSize + std::min(sparse, dense);
}

std::string HyperLogLog::inconsistency() const {
    if (p_ < kHllMinPrecision || p_ > kHllMaxPrecision) return "precision out of range";
    if (regs_.size() != size_t(1) << p_) return "register count does not match the precision";
    const uint8_t max_rank = uint8_t(64 - p_ + 1);
    for (uint8_t v : regs_)
        if (v > max_rank) return "register value out of range";
    return {};
}

void HyperLogLog::encode(std::string& out) const {
    // The decoder's own check: never write what it would refuse.
    if (const std::string why = inconsistency(); !why.empty()) unstorable("HyperLogLog sketch", why);
    const size_t nz = nonzero();
    const bool sparse = 5 * nz < regs_.size();
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint8_t>(p_);
    w.put<uint8_t>(sparse ? kSparse : kDense);
    w.put<uint32_t>(static_cast<uint32_t>(sparse ? nz : regs_.size()));
    if (sparse) {
        for (size_t i = 0; i < regs_.size(); i++) {
            if (!regs_[i]) continue;
            w.put<uint32_t>(static_cast<uint32_t>(i));
            w.put<uint8_t>(regs_[i]);
        }
    } else {
        w.bytes(regs_.data(), regs_.size());
    }
}

HyperLogLog HyperLogLog::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "HyperLogLog sketch");
    open_header(kHeader, r, size);
    const uint8_t p = r.get<uint8_t>("header");
    if (p < kHllMinPrecision || p > kHllMaxPrecision) r.corrupt("precision out of range");
    const uint8_t enc = r.get<uint8_t>("header");
    const uint32_t count = r.get<uint32_t>("header");
    const size_t m = size_t(1) << p;
    HyperLogLog h(p);
    if (enc == kDense) {
        if (count != m) r.corrupt("dense register count does not match the precision");
        r.bytes(h.regs_.data(), m, "registers");
    } else if (enc == kSparse) {
        if (count > m) r.corrupt("more sparse registers than registers");
        if (r.remaining() != size_t(count) * 5) r.corrupt("sparse section length does not match its count");
        int64_t prev = -1;
        for (uint32_t i = 0; i < count; i++) {
            const uint32_t idx = r.get<uint32_t>("sparse registers");
            const uint8_t v = r.get<uint8_t>("sparse registers");
            if (idx >= m) r.corrupt("sparse register index out of range");
            if (int64_t(idx) <= prev) r.corrupt("sparse register indexes are not strictly increasing");
            // The bytes' own rule: the sparse form lists only nonzero registers.
            if (v == 0) r.corrupt("register value out of range");
            h.regs_[idx] = v;
            prev = idx;
        }
    } else {
        r.corrupt("unknown register encoding");
    }
    r.expect_end();
    if (const std::string why = h.inconsistency(); !why.empty()) r.corrupt(why);
    return h;
}

}  // namespace pg_learn::core
