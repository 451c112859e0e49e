// Profile: rows of named features, merge, the validated binary and JSON forms, the summary.
#include "core/stats/profile.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/models/linear/spec.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// magic "PLPF", version, flags, reserved, u32 total length, feature count, checksum of every byte
// but its own ([0, 16) and [24, end)), row count.
constexpr HeaderSpec kHeader{"ml_profile", {'P', 'L', 'P', 'F'}, 1, 32, LengthField::Total32, 8,
                             ChecksumKind::AllButField, 16, 0x706C2D70726F66ull /* "pl-prof" */,
                             HeaderWording::Stats};
constexpr size_t kFeatureFixed = 4 + 5 * 8 + 4;  // name length, five counts, parts + reserved
constexpr uint8_t kPartNumeric = 1, kPartCategorical = 2;
constexpr int kTextVersion = 1;
constexpr int kMaxJsonDepth = 4;  // profile { features [ feature { stats { } } ] }
// Up to this many NULLs are added to exported statistics one by one; beyond, by doubling.
constexpr uint64_t kNullLoop = 64;

const char* const kTypeCountKeys[kValueTypes] = {"numeric_count", "boolean_count", "categorical_count",
                                                 "nested_count"};

uint64_t add_count(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) fail(ErrorKind::ProgramLimit, "ml_profile count overflow");
    return r;
}

[[noreturn]] void bad_text(const std::string& why) {
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_profile: " + why);
}

// A sub-value's message without its own type's prefix, for quoting it under ours.
std::string strip_prefix(const std::string& msg, const char* prefix) {
    const size_t n = std::strlen(prefix);
    return msg.compare(0, n, prefix) == 0 ? msg.substr(n) : msg;
}

// Why a feature name cannot be stored (empty when it can): the rules of a model's names.
std::string name_problem(std::string_view name) {
    if (name.size() > kMaxFeatureNameBytes)
        return "feature name is too long (" + std::to_string(name.size()) + " bytes; the limit is " +
               std::to_string(kMaxFeatureNameBytes) + ")";
    if (size_t at = utf8_invalid_offset(name); at != name.size())
        return "feature name is not valid UTF-8 (byte " + std::to_string(at + 1) + " of " +
               std::to_string(name.size()) + ")";
    if (name.find('\0') != std::string_view::npos) return "feature name contains a NUL byte";
    return {};
}

// n NULLs added to s. FeatureStats counts NULLs one call at a time; merging statistics that hold
// only NULLs adds their count and leaves every other byte as it was (the moments and sketches of
// no value merge as no-ops), so large counts are added by doubling.
void add_nulls(FeatureStats& s, uint64_t n) {
    if (n <= kNullLoop) {
        for (uint64_t i = 0; i < n; i++) s.add_null();
        return;
    }
    FeatureStats acc(s.kind()), power(s.kind());
    power.add_null();
    while (true) {
        if (n & 1) acc.merge(power);
        n >>= 1;
        if (!n) break;
        power.merge(power);
    }
    s.merge(acc);
}

}  // namespace

const char* value_type_name(ValueType type) {
    switch (type) {
        case ValueType::Numeric: return "numeric";
        case ValueType::Boolean: return "boolean";
        case ValueType::Categorical: return "categorical";
        case ValueType::Nested: return "nested";
    }
    return "unknown";
}

// ---- FeatureProfile -------------------------------------------------------------------------

uint64_t FeatureProfile::count() const {
    uint64_t n = 0;
    for (uint64_t c : types_) n += c;  // no overflow: checked on every path that sets counts
    return n;
}

bool FeatureProfile::type_conflict() const {
    int seen = 0;
    for (uint64_t c : types_) seen += c != 0;
    return seen > 1;
}

std::optional<ValueType> FeatureProfile::type() const {
    size_t best = 0;
    for (size_t t = 1; t < kValueTypes; t++)
        if (types_[t] > types_[best]) best = t;
    if (types_[best] == 0) return std::nullopt;
    return static_cast<ValueType>(best);
}

std::optional<StatsKind> FeatureProfile::stats_kind() const {
    const uint64_t num = types_[size_t(ValueType::Numeric)], boo = types_[size_t(ValueType::Boolean)],
                   cat = types_[size_t(ValueType::Categorical)];
    if (num == 0 && boo == 0 && cat == 0) return std::nullopt;
    return cat > num && cat > boo ? StatsKind::Categorical : StatsKind::Numeric;
}

const FeatureStats* FeatureProfile::values(StatsKind kind) const {
    const auto& s = kind == StatsKind::Numeric ? numeric_ : categorical_;
    return s ? &*s : nullptr;
}

std::optional<FeatureStats> FeatureProfile::stats(StatsKind kind) const {
    const FeatureStats* v = values(kind);
    if (!v) return std::nullopt;
    FeatureStats s = *v;
    add_nulls(s, nulls_);
    return s;
}

std::optional<FeatureStats> FeatureProfile::stats() const {
    const auto kind = stats_kind();
    if (!kind) return std::nullopt;
    return stats(*kind);
}

std::vector<std::string> FeatureProfile::domain() const {
    std::vector<std::string> out;
    if (!categorical_) return out;
    for (const TopKEntry& e : categorical_->top_k()) out.push_back(e.value);
    return out;
}

bool FeatureProfile::domain_complete() const { return categorical_ && categorical_->distinct_is_exact(); }

FeatureStats& FeatureProfile::numeric_slot() {
    if (!numeric_) numeric_.emplace(StatsKind::Numeric);
    return *numeric_;
}

FeatureStats& FeatureProfile::categorical_slot() {
    if (!categorical_) categorical_.emplace(StatsKind::Categorical);
    return *categorical_;
}

void FeatureProfile::merge(const FeatureProfile& o) {
    for (size_t t = 0; t < kValueTypes; t++) types_[t] = add_count(types_[t], o.types_[t]);
    nulls_ = add_count(nulls_, o.nulls_);
    uint64_t total = nulls_;  // the feature's total stays representable, so count() cannot overflow
    for (uint64_t c : types_) total = add_count(total, c);
    if (o.numeric_) {
        if (numeric_) numeric_->merge(*o.numeric_);
        else numeric_ = o.numeric_;
    }
    if (o.categorical_) {
        if (categorical_) categorical_->merge(*o.categorical_);
        else categorical_ = o.categorical_;
    }
}

std::string FeatureProfile::inconsistency() const {
    uint64_t total = 0;
    for (uint64_t c : types_) {
        if (__builtin_add_overflow(total, c, &total)) return "counts overflow";
    }
    if (__builtin_add_overflow(total, nulls_, &total)) return "counts overflow";
    if (total == 0) return "a feature with neither values nor NULLs";
    const uint64_t numbers = types_[size_t(ValueType::Numeric)] + types_[size_t(ValueType::Boolean)];
    const uint64_t strings = types_[size_t(ValueType::Categorical)];
    if (numeric_ && numbers == 0) return "numeric statistics without numbers or booleans counted";
    if (!numeric_ && numbers != 0) return "numbers or booleans counted without numeric statistics";
    if (categorical_ && strings == 0) return "categorical statistics without strings counted";
    if (!categorical_ && strings != 0) return "strings counted without categorical statistics";
    if (numeric_) {
        const FeatureStats& s = *numeric_;
        if (!s.numeric()) return "the numeric statistics are categorical";
        if (s.null_count() != 0) return "the numeric statistics hold NULLs";
        if (s.count() != numbers) return "the numeric statistics do not hold the numbers and booleans counted";
        if (types_[size_t(ValueType::Numeric)] == 0) {
            // Booleans only: finite values 0 and 1.
            if (s.finite_count() != numbers || *s.min() < 0.0 || *s.max() > 1.0)
                return "the statistics of booleans hold values other than 0 and 1";
        }
    }
    if (categorical_) {
        const FeatureStats& s = *categorical_;
        if (s.numeric()) return "the categorical statistics are numeric";
        if (s.null_count() != 0) return "the categorical statistics hold NULLs";
        if (s.count() != strings) return "the categorical statistics do not hold the strings counted";
    }
    return {};
}

// ---- Profile: rows ---------------------------------------------------------------------------

Profile& Profile::operator=(const Profile& o) {
    if (this != &o) {
        rows_ = o.rows_;
        features_ = o.features_;
        row_cache_.clear();
        cursor_ = 0;
        row_open_ = false;
    }
    return *this;
}

Profile& Profile::operator=(Profile&& o) noexcept {
    if (this != &o) {
        rows_ = o.rows_;
        features_ = std::move(o.features_);
        row_cache_.clear();
        cursor_ = 0;
        row_open_ = false;
    }
    return *this;
}

void Profile::start_row() {
    rows_ = add_count(rows_, 1);
    cursor_ = 0;
    row_open_ = true;
}

FeatureProfile& Profile::slot(std::string_view name) {
    if (!row_open_) fail(ErrorKind::Internal, "a profile value was added outside a row");
    Features::value_type* e = nullptr;
    if (cursor_ < row_cache_.size() && row_cache_[cursor_]->first == name) {
        e = row_cache_[cursor_];
    } else {
        auto it = features_.find(name);
        if (it == features_.end()) {
            if (features_.size() >= kProfileMaxFeatures)
                fail(ErrorKind::ProgramLimit,
                     "a profile holds at most " + std::to_string(kProfileMaxFeatures) + " features",
                     "feature \"" + message_name(name) + "\" would be feature " +
                         std::to_string(kProfileMaxFeatures + 1),
                     "Profile fewer columns or keys at once, e.g. one ml_profile per group of features.");
            if (std::string why = name_problem(name); !why.empty()) {
                const bool too_long = name.size() > kMaxFeatureNameBytes;
                fail(too_long ? ErrorKind::ProgramLimit : ErrorKind::InvalidText, why,
                     too_long ? "the name starts \"" + message_name(name) + "\"" : std::string());
            }
            it = features_.emplace(std::string(name), FeatureProfile()).first;
        }
        e = &*it;
        if (cursor_ < row_cache_.size()) row_cache_[cursor_] = e;
        else row_cache_.push_back(e);
    }
    cursor_++;
    FeatureProfile& f = e->second;
    if (f.last_row_ == rows_)
        fail(ErrorKind::InvalidParameter, "feature \"" + message_name(name) + "\" appears twice in one row",
             "row " + std::to_string(rows_) + " of the profile");
    f.last_row_ = rows_;
    return f;
}

void Profile::add_number(std::string_view name, double x) {
    FeatureProfile& f = slot(name);
    f.numeric_slot().add(x);
    f.types_[size_t(ValueType::Numeric)]++;
}

void Profile::add_boolean(std::string_view name, bool b) {
    FeatureProfile& f = slot(name);
    f.numeric_slot().add(b ? 1.0 : 0.0);
    f.types_[size_t(ValueType::Boolean)]++;
}

void Profile::add_string(std::string_view name, std::string_view value) {
    FeatureProfile& f = slot(name);
    f.categorical_slot().add(value);
    f.types_[size_t(ValueType::Categorical)]++;
}

void Profile::add_nested(std::string_view name) { slot(name).types_[size_t(ValueType::Nested)]++; }

void Profile::add_null(std::string_view name) { slot(name).nulls_++; }

void Profile::merge(const Profile& o) {
    if (&o == this) {
        const Profile copy = o;
        merge(copy);
        return;
    }
    size_t together = features_.size();
    for (const auto& [name, f] : o.features_) together += features_.count(name) == 0;
    if (together > kProfileMaxFeatures)
        fail(ErrorKind::ProgramLimit,
             "a profile holds at most " + std::to_string(kProfileMaxFeatures) + " features",
             "the profiles merged have " + std::to_string(together) + " features together",
             "Profile fewer columns or keys at once, e.g. one ml_profile per group of features.");
    rows_ = add_count(rows_, o.rows_);
    row_open_ = false;
    for (const auto& [name, f] : o.features_) {
        auto it = features_.find(name);
        if (it == features_.end()) {
            FeatureProfile& nf = features_.emplace(name, f).first->second;
            nf.last_row_ = 0;
        } else {
            it->second.merge(f);
        }
    }
}

const FeatureProfile* Profile::find(std::string_view name) const {
    auto it = features_.find(name);
    return it == features_.end() ? nullptr : &it->second;
}

double Profile::presence(const FeatureProfile& f) const {
    if (rows_ == 0) return 0.0;
    return static_cast<double>(f.count()) / static_cast<double>(rows_);
}

std::string Profile::inconsistency() const {
    if (features_.size() > kProfileMaxFeatures)
        return "more than " + std::to_string(kProfileMaxFeatures) + " features";
    for (const auto& [name, f] : features_) {
        if (std::string why = name_problem(name); !why.empty()) return why;
        if (std::string why = f.inconsistency(); !why.empty()) return "feature \"" + message_name(name) + "\": " + why;
        if (f.count() + f.null_count() > rows_)
            return "feature \"" + message_name(name) + "\" appears in more rows than the profile has";
    }
    return {};
}

// ---- binary form ----------------------------------------------------------------------------

size_t Profile::encoded_size() const {
    size_t n = kHeader.size;
    for (const auto& [name, f] : features_) {
        n += kFeatureFixed + name.size();
        if (f.numeric_) n += 4 + f.numeric_->encoded_size();
        if (f.categorical_) n += 4 + f.categorical_->encoded_size();
    }
    if (n > kProfileMaxEncodedBytes)
        fail(ErrorKind::ProgramLimit, "ml_profile value too large",
             std::to_string(n) + " bytes; the limit is " + std::to_string(kProfileMaxEncodedBytes));
    return n;
}

std::string Profile::encode() const {
    // The decoder's own check: never write what it refuses.
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_profile", why);
    const size_t size = encoded_size();
    std::string out;
    out.reserve(size);
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint8_t>(0);  // flags
    w.put<uint8_t>(0);  // reserved
    w.put<uint32_t>(0);  // total length, set by seal_header
    w.put<uint32_t>(static_cast<uint32_t>(features_.size()));
    w.put<uint64_t>(0);  // checksum, set by seal_header
    w.put<uint64_t>(rows_);
    for (const auto& [name, f] : features_) {
        w.put<uint32_t>(static_cast<uint32_t>(name.size()));
        w.bytes(name.data(), name.size());
        for (uint64_t c : f.types_) w.put<uint64_t>(c);
        w.put<uint64_t>(f.nulls_);
        w.put<uint8_t>(uint8_t((f.numeric_ ? kPartNumeric : 0) | (f.categorical_ ? kPartCategorical : 0)));
        w.put<uint8_t>(0);
        w.put<uint16_t>(0);
        for (const auto* s : {&f.numeric_, &f.categorical_}) {
            if (!*s) continue;
            const std::string b = (*s)->encode();
            w.put<uint32_t>(static_cast<uint32_t>(b.size()));
            w.bytes(b.data(), b.size());
        }
    }
    if (out.size() != size) fail(ErrorKind::Internal, "ml_profile encoder size mismatch");
    seal_header(kHeader, reinterpret_cast<uint8_t*>(&out[0]), out.size());
    return out;
}

void Profile::encode(uint8_t* out, size_t size) const {
    const std::string s = encode();
    if (s.size() != size) fail(ErrorKind::Internal, "ml_profile encoder size mismatch");
    std::memcpy(out, s.data(), size);
}

Profile Profile::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "ml_profile");
    read_header(kHeader, r, data, size);
    const uint8_t flags = data[6], reserved = data[7];
    const uint32_t nfeatures = header_field<uint32_t>(data, 12);
    if (flags != 0) r.corrupt("unknown flags");
    if (reserved != 0) r.corrupt("reserved field is not zero");
    if (nfeatures > kProfileMaxFeatures)
        r.corrupt(std::to_string(nfeatures) + " features (at most " + std::to_string(kProfileMaxFeatures) + ")");

    Profile p;
    p.rows_ = header_field<uint64_t>(data, 24);
    const std::string* previous = nullptr;
    for (uint32_t i = 0; i < nfeatures; i++) {
        const uint32_t len = r.get<uint32_t>("feature name");
        const uint8_t* np = r.take(len, "feature name");
        std::string name(reinterpret_cast<const char*>(np), len);
        if (std::string why = name_problem(name); !why.empty()) r.corrupt(why);
        // Strictly increasing names: sorted (the map's order) and each at most once.
        if (previous && !(*previous < name))
            r.corrupt("feature names out of order or repeated at \"" + message_name(name) + "\"");
        FeatureProfile f;
        for (uint64_t& c : f.types_) c = r.get<uint64_t>("feature counts");
        f.nulls_ = r.get<uint64_t>("feature counts");
        const uint8_t parts = r.get<uint8_t>("feature parts");
        if (parts & ~(kPartNumeric | kPartCategorical)) r.corrupt("unknown statistics parts of feature \"" + message_name(name) + "\"");
        if (r.get<uint8_t>("feature parts") != 0 || r.get<uint16_t>("feature parts") != 0)
            r.corrupt("reserved field is not zero");
        auto part = [&](const char* what) {
            const uint32_t n = r.get<uint32_t>(what);
            const uint8_t* p = r.take(n, what);
            try {
                return FeatureStats::decode(p, n);
            } catch (const Error& e) {
                fail(ErrorKind::InvalidBinary,
                     "invalid binary ml_profile: feature \"" + message_name(name) + "\": " + what + ": " +
                         strip_prefix(e.what(), "invalid binary ml_stats: "),
                     e.detail(), e.hint());
            }
        };
        if (parts & kPartNumeric) f.numeric_.emplace(part("numeric statistics"));
        if (parts & kPartCategorical) f.categorical_.emplace(part("categorical statistics"));
        auto it = p.features_.emplace_hint(p.features_.end(), std::move(name), std::move(f));
        previous = &it->first;
    }
    r.expect_end();
    if (std::string why = p.inconsistency(); !why.empty()) r.corrupt(why);
    if (p.rows_ == 0 && !p.features_.empty()) r.corrupt("features without rows");
    return p;
}

// ---- text form ------------------------------------------------------------------------------

std::string Profile::to_text() const {
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_profile", why);
    ordered_json j;
    j["pg_learn_profile"] = kTextVersion;
    j["rows"] = rows_;
    ordered_json fs = ordered_json::array();
    for (const auto& [name, f] : features_) {
        ordered_json fj;
        fj["name"] = name;  // valid UTF-8: checked on every path that adds a name
        for (size_t t = 0; t < kValueTypes; t++) fj[kTypeCountKeys[t]] = f.types_[t];
        fj["null_count"] = f.nulls_;
        if (f.numeric_) fj["numeric_stats"] = ordered_json::parse(f.numeric_->to_text());
        if (f.categorical_) fj["categorical_stats"] = ordered_json::parse(f.categorical_->to_text());
        fs.push_back(std::move(fj));
    }
    j["features"] = std::move(fs);
    return j.dump();
}

Profile Profile::from_text(const char* text, size_t len) {
    if (json_too_deep(text, len, kMaxJsonDepth)) bad_text("JSON nested too deeply");
    const json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded()) bad_text("not valid JSON");
    if (!j.is_object()) bad_text(std::string("a JSON object was expected, not ") + j.type_name());
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "pg_learn_profile" && it.key() != "rows" && it.key() != "features")
            bad_text("unknown key \"" + message_name(it.key()) + "\"");
    auto need = [&](const json& obj, const char* key, const std::string& where) -> const json& {
        auto it = obj.find(key);
        if (it == obj.end()) bad_text(where + "missing key \"" + key + "\"");
        return *it;
    };
    auto u64 = [&](const json& obj, const char* key, const std::string& where) -> uint64_t {
        const json& v = need(obj, key, where);
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            bad_text(where + "\"" + key + "\" must be a non-negative integer");
        return v.get<uint64_t>();
    };
    const json& ver = need(j, "pg_learn_profile", "");
    if (!ver.is_number_integer() || ver.get<int64_t>() != kTextVersion)
        bad_text("unsupported version " + ver.dump() + " (this build reads version 1)");

    Profile p;
    p.rows_ = u64(j, "rows", "");
    const json& fs = need(j, "features", "");
    if (!fs.is_array()) bad_text("\"features\" must be an array");
    if (fs.size() > kProfileMaxFeatures)
        bad_text(std::to_string(fs.size()) + " features (at most " + std::to_string(kProfileMaxFeatures) + ")");
    static const char* const kFeatureKeys[] = {"name",       "numeric_count", "boolean_count",
                                               "categorical_count", "nested_count", "null_count",
                                               "numeric_stats",     "categorical_stats"};
    for (size_t i = 0; i < fs.size(); i++) {
        const json& fj = fs[i];
        std::string where = "feature " + std::to_string(i + 1) + ": ";
        if (!fj.is_object()) bad_text(where + "a JSON object was expected, not " + fj.type_name());
        for (auto it = fj.begin(); it != fj.end(); ++it) {
            bool known = false;
            for (const char* k : kFeatureKeys) known = known || it.key() == k;
            if (!known) bad_text(where + "unknown key \"" + message_name(it.key()) + "\"");
        }
        const json& nj = need(fj, "name", where);
        if (!nj.is_string()) bad_text(where + "\"name\" must be a string");
        std::string name = nj.get<std::string>();
        if (std::string why = name_problem(name); !why.empty()) bad_text(where + why);
        where = "feature \"" + message_name(name) + "\": ";
        FeatureProfile f;
        for (size_t t = 0; t < kValueTypes; t++) f.types_[t] = u64(fj, kTypeCountKeys[t], where);
        f.nulls_ = u64(fj, "null_count", where);
        auto stats = [&](const char* key) -> std::optional<FeatureStats> {
            auto it = fj.find(key);
            if (it == fj.end()) return std::nullopt;
            if (!it->is_object()) bad_text(where + "\"" + key + "\" must be a JSON object");
            try {
                return FeatureStats::from_text(it->dump());
            } catch (const Error& e) {
                bad_text(where + "\"" + key + "\": " +
                         strip_prefix(e.what(), "invalid input syntax for type ml_stats: "));
            }
        };
        f.numeric_ = stats("numeric_stats");
        f.categorical_ = stats("categorical_stats");
        if (!p.features_.emplace(std::move(name), std::move(f)).second) bad_text(where + "appears twice");
    }
    if (std::string why = p.inconsistency(); !why.empty()) bad_text(why);
    if (p.rows_ == 0 && !p.features_.empty()) bad_text("features without rows");
    return p;
}

// ---- summary --------------------------------------------------------------------------------

ordered_json Profile::summary() const {
    ordered_json j;
    j["rows"] = rows_;
    j["feature_count"] = features_.size();
    ordered_json fs = ordered_json::object();
    for (const auto& [name, f] : features_) {
        ordered_json fj;
        const auto type = f.type();
        fj["type"] = type ? ordered_json(value_type_name(*type)) : ordered_json(nullptr);
        ordered_json tc;
        for (size_t t = 0; t < kValueTypes; t++) tc[value_type_name(ValueType(t))] = f.types_[t];
        fj["type_counts"] = tc;
        fj["type_conflict"] = f.type_conflict();
        fj["presence"] = presence(f);
        fj["count"] = f.count();
        fj["null_count"] = f.nulls_;
        fj["missing_count"] = missing_count(f);
        if (f.categorical_) {
            // Values as valid UTF-8 (replaced where they are not), as in FeatureStats::summary.
            ordered_json dj = ordered_json::array();
            for (const std::string& v : f.domain()) dj.push_back(utf8_or_replacement(v));
            fj["domain"] = std::move(dj);
            fj["domain_complete"] = f.domain_complete();
        } else {
            fj["domain"] = nullptr;
            fj["domain_complete"] = nullptr;
        }
        const auto kind = f.stats_kind();
        fj["stats"] = kind ? f.stats(*kind)->summary() : ordered_json(nullptr);
        // The values of the other kind, when a type conflict left some.
        if (kind) {
            const StatsKind other = *kind == StatsKind::Numeric ? StatsKind::Categorical : StatsKind::Numeric;
            if (f.values(other)) fj["other_stats"] = f.stats(other)->summary();
        }
        fs[name] = std::move(fj);
    }
    j["features"] = std::move(fs);
    return j;
}

}  // namespace pg_learn::core
