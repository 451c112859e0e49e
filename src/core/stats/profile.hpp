// A profile of many features at once (the ml_profile value): per feature name, the types of its
// values, its presence and the statistics of its values, as TensorFlow Data Validation computes.
#pragma once

#include "core/common/cpp_only.hpp"

#include "core/stats/feature_stats.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// The type of one value of a feature. Numbers and booleans feed the feature's numeric statistics
// (a boolean as 0 or 1), strings its categorical statistics; nested values (a jsonb object or
// array) are counted only.
enum class ValueType : uint8_t { Numeric = 0, Boolean = 1, Categorical = 2, Nested = 3 };
constexpr size_t kValueTypes = 4;
const char* value_type_name(ValueType type);  // "numeric", "boolean", "categorical", "nested"

// More distinct feature names than this in one profile is a ProgramLimit error (54000), on adding
// and on merging: a profile keeps statistics per feature (up to about 26 KB each), so the cap
// bounds its memory and its flat size (docs/statistics.md, "Profiles").
constexpr size_t kProfileMaxFeatures = 10000;
// A flat profile must fit a PostgreSQL varlena (1 GB): larger is a ProgramLimit error.
constexpr size_t kProfileMaxEncodedBytes = 1000000000;

// What a profile knows of one feature. The counts are exact and add up on merge:
//  - type_count(t): rows where the feature had a non-NULL value of type t;
//  - null_count(): rows where it was present but NULL (a jsonb null, a NULL column);
//  - count() = the sum of the type counts (present and non-NULL);
//  - rows where it did not appear at all are the profile's rows() - count() - null_count().
// The numeric statistics hold its numbers and booleans, the categorical ones its strings; each
// exists exactly when such values were seen, and neither holds NULLs (they are the feature's).
class FeatureProfile {
public:
    uint64_t type_count(ValueType t) const { return types_[size_t(t)]; }
    uint64_t count() const;
    uint64_t null_count() const { return nulls_; }
    // More than one type among numeric, boolean, categorical and nested.
    bool type_conflict() const;
    // The type of most of its values (ties: numeric, boolean, categorical, nested); nullopt when
    // every value was NULL.
    std::optional<ValueType> type() const;
    // The kind of the statistics that describe the feature: that of its most frequent scalar type
    // (numeric, boolean: Numeric; categorical: Categorical; ties in that order), i.e. of type()
    // unless that is nested; nullopt when it had no number, boolean or string.
    std::optional<StatsKind> stats_kind() const;
    // Those statistics, with the feature's NULLs counted as null_count() (as ml_stats(x) over a
    // column counts them); nullopt when stats_kind() is.
    std::optional<FeatureStats> stats() const;
    // The statistics of one kind whatever the type (the numbers of a mostly-string feature, say),
    // NULLs included; nullopt when no value of that kind was seen.
    std::optional<FeatureStats> stats(StatsKind kind) const;
    // The same without the NULLs, by reference (no copy): nullptr when absent.
    const FeatureStats* values(StatsKind kind) const;
    // The domain of its string values: the values listed by the categorical top-k summary (count
    // descending, then bytes), complete when that lists every distinct value seen (at most 64).
    // Empty and not complete when it had no string value.
    std::vector<std::string> domain() const;
    bool domain_complete() const;

private:
    friend class Profile;
    FeatureStats& numeric_slot();
    FeatureStats& categorical_slot();
    void merge(const FeatureProfile& o);
    std::string inconsistency() const;

    std::array<uint64_t, kValueTypes> types_{};
    uint64_t nulls_ = 0;
    std::optional<FeatureStats> numeric_;
    std::optional<FeatureStats> categorical_;
    uint64_t last_row_ = 0;  // the row that last gave a value; not part of the value
};

// A profile: the number of rows seen and a FeatureProfile per feature name, in byte order of the
// names. Rows are added one at a time:
//     p.start_row(); p.add_number("age", 41); p.add_string("city", "Lyon"); p.add_null("tip");
// A name given twice in one row is InvalidParameter; a name that is not valid UTF-8 or holds a
// NUL byte is InvalidText, one over 1024 bytes or a 10,001st name ProgramLimit.
// Same rows in the same order give the same value, byte for byte.
class Profile {
public:
    using Features = std::map<std::string, FeatureProfile, std::less<>>;

    Profile() = default;
    Profile(const Profile& o) : rows_(o.rows_), features_(o.features_) {}
    Profile(Profile&& o) noexcept : rows_(o.rows_), features_(std::move(o.features_)) {}
    Profile& operator=(const Profile& o);
    Profile& operator=(Profile&& o) noexcept;

    void start_row();
    void add_number(std::string_view name, double x);  // NaN and infinities are counted by the stats
    void add_boolean(std::string_view name, bool b);
    void add_string(std::string_view name, std::string_view value);
    void add_nested(std::string_view name);
    void add_null(std::string_view name);
    // The profile of both inputs' rows: counts exact, statistics merged (moments as one pass).
    // More than kProfileMaxFeatures names together is ProgramLimit, and nothing is changed.
    void merge(const Profile& other);

    uint64_t rows() const { return rows_; }
    size_t size() const { return features_.size(); }
    const Features& features() const { return features_; }
    const FeatureProfile* find(std::string_view name) const;
    // Rows where the feature had a non-NULL value, over rows(): TFDV's presence.
    double presence(const FeatureProfile& f) const;
    // Rows where the feature did not appear at all (neither a value nor NULL).
    uint64_t missing_count(const FeatureProfile& f) const { return rows_ - f.count() - f.null_count(); }

    // Binary form (docs/statistics.md, "Profiles"): magic, version, length, feature count,
    // checksum of everything, rows, then per feature in name order its name, counts and the
    // FeatureStats binary form of each kind present. decode() checks every field, the order
    // of the names and the agreement of counts and statistics; bad input is InvalidBinary.
    size_t encoded_size() const;  // ProgramLimit beyond kProfileMaxEncodedBytes
    void encode(uint8_t* out, size_t size) const;  // size must be encoded_size()
    std::string encode() const;
    static Profile decode(const uint8_t* data, size_t size);
    static Profile decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }

    // Text form: a JSON object of the exact state (each statistics in FeatureStats' own text
    // form) that reads back to the same value, byte for byte. Bad text is InvalidText.
    std::string to_text() const;
    static Profile from_text(const char* text, size_t len);
    static Profile from_text(const std::string& s) { return from_text(s.data(), s.size()); }

    // Everything at once, for people and dashboards (ml_profile::jsonb): rows, and per feature
    // its type, type counts, conflict flag, presence, counts, domain and statistics summary.
    nlohmann::ordered_json summary() const;

    bool operator==(const Profile& o) const { return encode() == o.encode(); }
    bool operator!=(const Profile& o) const { return !(*this == o); }

private:
    FeatureProfile& slot(std::string_view name);
    std::string inconsistency() const;

    uint64_t rows_ = 0;
    Features features_;
    // Where each position of the last row found its feature: rows usually name the same
    // features in the same order, so a lookup is one comparison. Never copied (it points into
    // this profile's own map).
    std::vector<Features::value_type*> row_cache_;
    size_t cursor_ = 0;
    bool row_open_ = false;
};

}  // namespace pg_learn::core
