// Observation building, with feature names and values validated as they arrive.
#include "core/features/observation.hpp"

#include "core/common/error.hpp"
#include "core/models/linear/spec.hpp"
#include "core/common/text.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace pg_learn::core {

void Observation::check_name_length(size_t len) {
    if (len > kMaxFeatureNameBytes)
        fail(ErrorKind::ProgramLimit, "feature name is too long",
             "a feature name (with its categorical value) has " + std::to_string(len) +
                 " bytes; the limit is " + std::to_string(kMaxFeatureNameBytes));
}

void Observation::check_numeric(std::string_view name, double value) {
    if (!std::isfinite(value))
        fail(ErrorKind::NumericRange,
             "feature \"" + message_name(name) + "\" is " +
                 (std::isnan(value) ? "NaN" : "infinite"),
             {}, "Features must be finite numbers; use NULL for a missing value.");
}

uint32_t Observation::push_name(std::string_view a, std::string_view b, bool with_equals) {
    size_t len = a.size() + (with_equals ? 1 + b.size() : 0);
    check_name_length(len);
    if (names_.size() + len > std::numeric_limits<uint32_t>::max())
        fail(ErrorKind::ProgramLimit, "too many feature bytes in one observation");
    auto off = static_cast<uint32_t>(names_.size());
    names_.append(a);
    if (with_equals) {
        names_.push_back('=');
        names_.append(b);
    }
    return off;
}

void Observation::add_numeric(std::string_view name, double value) {
    check_numeric(name, value);
    const uint32_t off = push_name(name);
    Entry& e = entries_.emplace_back();
    e.borrowed = nullptr;
    e.name_offset = off;
    e.name_length = static_cast<uint32_t>(name.size());
    e.key_length = static_cast<uint32_t>(name.size());
    e.value = value;
    e.type = FeatureType::Numeric;
    e.missing = false;
}

void Observation::add_numeric_borrowed(std::string_view name, double value) {
    check_numeric(name, value);
    check_name_length(name.size());
    // Fields written in place: a braced temporary copied into the vector is read back in wider
    // loads than it was written with (a store-forwarding stall per feature).
    Entry& e = entries_.emplace_back();
    e.borrowed = name.data();
    e.name_offset = 0;
    e.name_length = static_cast<uint32_t>(name.size());
    e.key_length = static_cast<uint32_t>(name.size());
    e.value = value;
    e.type = FeatureType::Numeric;
    e.missing = false;
}

void Observation::add_category(std::string_view name, std::string_view value) {
    auto off = push_name(name, value, true);
    entries_.push_back({nullptr, off, static_cast<uint32_t>(name.size() + 1 + value.size()),
                        static_cast<uint32_t>(name.size()), 1.0, FeatureType::Categorical, false});
}

void Observation::add_missing(std::string_view name) {
    auto off = push_name(name);
    entries_.push_back({nullptr, off, static_cast<uint32_t>(name.size()), static_cast<uint32_t>(name.size()),
                        0.0, FeatureType::Numeric, true});
}

uint32_t murmur3_32(const void* data, size_t len, uint32_t seed) {
    const auto* p = static_cast<const uint8_t*>(data);
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k;
        std::memcpy(&k, p + 4 * i, 4);  // little-endian hosts only (checked in model_format.cpp)
        k *= c1;
        k = (k << 15) | (k >> 17);
        k *= c2;
        h ^= k;
        h = (h << 13) | (h >> 19);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t* tail = p + 4 * nblocks;
    uint32_t k = 0;
    switch (len & 3) {
        case 3: k ^= uint32_t(tail[2]) << 16; [[fallthrough]];
        case 2: k ^= uint32_t(tail[1]) << 8; [[fallthrough]];
        case 1:
            k ^= tail[0];
            k *= c1;
            k = (k << 15) | (k >> 17);
            k *= c2;
            h ^= k;
    }
    h ^= static_cast<uint32_t>(len);
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

uint64_t hash64(const void* data, size_t len, uint64_t seed) {
    const auto* p = static_cast<const uint8_t*>(data);
    const uint64_t m = 0x9E3779B97F4A7C15ull;
    uint64_t h = seed ^ (len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        w *= 0xbf58476d1ce4e5b9ull;
        w ^= w >> 31;
        h = (h ^ w) * m;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    for (size_t s = 0; i < len; i++, s += 8) tail |= uint64_t(p[i]) << s;
    h = (h ^ (tail * 0x94d049bb133111ebull)) * m;
    h ^= h >> 32;
    return h;
}

}  // namespace pg_learn::core
