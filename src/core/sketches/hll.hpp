// HyperLogLog distinct-count sketch over 64-bit hashes: mergeable, with a validated binary form.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// Flajolet, Fusy, Gandouet & Meunier, "HyperLogLog" (AofA 2007), on 64-bit hashes as in
// Heule, Nunkesser & Hall, "HyperLogLog in Practice" (EDBT 2013, HLL++): 2^p registers, the
// top p hash bits choose a register, the rank of the remaining 64 - p bits is kept as a max.
// With 64-bit hashes there is no large-range correction. Relative standard error
// 1.04 / sqrt(2^p): 0.81% at the default p = 14 (16 KiB of registers).
//
// estimate() is the HLL++ rule without its empirical bias tables: linear counting
// m ln(m / V) while it is at most the HLL++ threshold for p (V = empty registers), else the
// raw estimate alpha_m m^2 / sum 2^-M[j]. Between the threshold and about 5m the raw estimate
// is biased upwards (HLL++ fig. 3), which the bias tables we do not ship would remove; so
// estimate() uses, there, Ertl's improved estimator (Ertl 2017, "New cardinality estimation
// algorithms for HyperLogLog sketches", arXiv:1702.01284, sec. 3), which is unbiased over the
// whole range without tables. estimate_raw(), estimate_linear_counting() and
// estimate_ertl() are exposed for tests and docs/statistics.md.
constexpr uint8_t kHllDefaultPrecision = 14;
constexpr uint8_t kHllMinPrecision = 4;
constexpr uint8_t kHllMaxPrecision = 18;
// The seed of the hash of a value's bytes (xxh64); part of the binary format's meaning.
constexpr uint64_t kHllHashSeed = 0;

class HyperLogLog {
public:
    explicit HyperLogLog(uint8_t p = kHllDefaultPrecision);

    void add_hash(uint64_t hash);
    void add(const void* data, size_t len);
    void add(std::string_view bytes) { add(bytes.data(), bytes.size()); }
    // Register-wise max. Sketches of different precision merge at the smaller one (the larger
    // is folded down exactly, as if it had been built at that precision).
    void merge(const HyperLogLog& other);

    uint8_t precision() const { return p_; }
    size_t registers() const { return regs_.size(); }
    uint8_t reg(size_t i) const { return regs_[i]; }
    bool empty() const;
    double estimate() const;
    double estimate_raw() const;
    double estimate_linear_counting() const;  // infinity when no register is empty
    double estimate_ertl() const;
    static double relative_standard_error(uint8_t p);

    size_t serialized_size() const;
    // Appends; sparse when that is smaller. Refuses (NumericRange, core::unstorable) a sketch
    // that inconsistency() finds wrong: what decode() would refuse is never written.
    void encode(std::string& out) const;
    static HyperLogLog decode(const uint8_t* data, size_t size);
    static HyperLogLog decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }
    // The one validation of a sketch's value, run by decode() (after reading the bytes) and by
    // encode(): empty when the precision is in range, there are 2^p registers and each holds a
    // rank a 64-bit hash can give (at most 65 - p), else why not.
    std::string inconsistency() const;

    bool operator==(const HyperLogLog& o) const { return p_ == o.p_ && regs_ == o.regs_; }
    bool operator!=(const HyperLogLog& o) const { return !(*this == o); }

private:
    friend struct SketchTestAccess;  // unit tests only (test/unit/test_hardening.cpp)
    HyperLogLog folded(uint8_t p) const;
    size_t nonzero() const;

    uint8_t p_;
    std::vector<uint8_t> regs_;
};

}  // namespace pg_learn::core
