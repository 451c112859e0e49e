// One example's named features, filled by the glue and reused across rows without reallocating.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

enum class FeatureType : uint8_t { Numeric = 0, Categorical = 1 };

class Observation {
public:
    struct Entry {
        const char* borrowed;  // the caller's bytes of the name, or nullptr: at name_offset in ours
        uint32_t name_offset;
        uint32_t name_length;
        uint32_t key_length;  // the column or key name alone, without "=value"
        double value;  // the number, or 1.0 for a categorical value
        FeatureType type;
        bool missing;
    };

    void clear() {
        names_.clear();
        entries_.clear();
    }
    // Throws NumericRange for NaN or infinity, naming the feature.
    void add_numeric(std::string_view name, double value);
    // The same without copying the name: the caller keeps its bytes alive and unchanged until
    // this observation is cleared (a value read in place for one call). A copy of the
    // observation refers to the same bytes.
    void add_numeric_borrowed(std::string_view name, double value);
    // Categorical values are one-hot features named "name=value".
    void add_category(std::string_view name, std::string_view value);
    void add_missing(std::string_view name);

    size_t size() const { return entries_.size(); }
    const Entry& operator[](size_t i) const { return entries_[i]; }
    std::string_view name(const Entry& e) const {
        return std::string_view(e.borrowed ? e.borrowed : names_.data() + e.name_offset, e.name_length);
    }
    std::string_view key(const Entry& e) const {
        return std::string_view(e.borrowed ? e.borrowed : names_.data() + e.name_offset, e.key_length);
    }

private:
    uint32_t push_name(std::string_view a, std::string_view b = {}, bool with_equals = false);
    static void check_numeric(std::string_view name, double value);
    static void check_name_length(size_t len);

    std::string names_;
    std::vector<Entry> entries_;
};

// MurmurHash3 (x86, 32-bit), the hash Vowpal Wabbit uses for feature hashing.
uint32_t murmur3_32(const void* data, size_t len, uint32_t seed);
// A fast 64-bit hash of a byte range: model identities and the binary format's checksum.
uint64_t hash64(const void* data, size_t len, uint64_t seed = 0);

}  // namespace pg_learn::core
