// The feature dictionary shared by the model families (docs/features.md, "Feature mismatches").
#include "core/models/common/feature_dictionary.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pg_learn::core {

using nlohmann::json;

std::string position_name(size_t i) { return "x" + std::to_string(i + 1); }

bool ignored_key(const std::vector<std::string>& ignore, std::string_view key) {
    for (const std::string& s : ignore)
        if (s == key) return true;
    return false;
}

namespace {

// a == b, inline for the short names features have (std::string's == calls memcmp).
inline bool same_bytes(const std::string& a, std::string_view b) {
    const size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

std::string_view key_of(const std::string& name, FeatureType type) {
    return type == FeatureType::Categorical ? std::string_view(name).substr(0, name.find('=')) : std::string_view(name);
}

// ASCII letters folded to lower case: feature names are mostly ASCII identifiers.
inline char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_folded(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

// Levenshtein distance on case-folded bytes, or limit + 1 once it must exceed limit.
size_t edit_distance(std::string_view a, std::string_view b, size_t limit) {
    if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > limit) return limit + 1;
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); j++) prev[j] = j;
    for (size_t i = 1; i <= a.size(); i++) {
        cur[0] = i;
        size_t row_min = cur[0];
        for (size_t j = 1; j <= b.size(); j++) {
            const size_t sub = prev[j - 1] + (fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1);
            cur[j] = std::min({sub, prev[j] + 1, cur[j - 1] + 1});
            row_min = std::min(row_min, cur[j]);
        }
        if (row_min > limit) return limit + 1;
        prev.swap(cur);
    }
    return prev[b.size()];
}

}  // namespace

uint32_t FeatureDictionary::find(std::string_view name) const {
    scratch_.assign(name.data(), name.size());
    auto it = index_.find(scratch_);
    return it == index_.end() ? kUnknownFeature : it->second;
}

uint32_t FeatureDictionary::add(std::string_view name, FeatureType type) {
    if (uint32_t i = find(name); i != kUnknownFeature) return i;
    if (names_.size() >= limit_) {
        if (bounded_) return kUnknownFeature;
        fail(ErrorKind::ProgramLimit, "model has too many distinct features",
             "the limit" + limit_context_ + " is " + std::to_string(limit_) + " features", limit_hint_);
    }
    if (name.size() > kMaxDictionaryNameBytes)
        fail(ErrorKind::ProgramLimit, "feature name is too long",
             "it has " + std::to_string(name.size()) + " bytes; the limit is " +
                 std::to_string(kMaxDictionaryNameBytes));
    if (size_t at = utf8_invalid_offset(name); at != name.size())
        fail(ErrorKind::InvalidText, "feature name is not valid UTF-8",
             "byte " + std::to_string(at + 1) + " of the " + std::to_string(name.size()) +
                 "-byte name does not start a valid UTF-8 character",
             "A model stores its feature names as UTF-8.");
    if (name.find('\0') != std::string_view::npos) fail(ErrorKind::InvalidText, "feature name contains a NUL byte");
    const auto i = static_cast<uint32_t>(names_.size());
    names_.emplace_back(name);
    types_.push_back(static_cast<uint8_t>(type));
    index_.emplace(names_.back(), i);
    dense_n_ = SIZE_MAX;  // a position that was unknown may be known now
    return i;
}

void FeatureDictionary::truncate(size_t n) {
    if (n >= names_.size()) return;
    while (names_.size() > n) {
        index_.erase(names_.back());
        names_.pop_back();
        types_.pop_back();
    }
    recent_.clear();  // it may name a forgotten index
    dense_n_ = SIZE_MAX;
    check_keys_names_ = SIZE_MAX;
    check_recent_.clear();
    check_dense_n_ = SIZE_MAX;
}

void FeatureDictionary::remember_recent(size_t position, std::string_view name, uint32_t index) const {
    if (position >= recent_.size()) recent_.resize(position + 1);
    recent_[position].name.assign(name.data(), name.size());
    recent_[position].index = index;
}

void FeatureDictionary::resolve(const Observation& x, const std::vector<std::string>& ignore,
                                std::vector<FeatureTerm>& out) const {
    out.clear();
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        if (e.missing) continue;
        if (!ignore.empty() && ignored_key(ignore, x.key(e))) continue;
        const std::string_view name = x.name(e);
        uint32_t idx;
        if (i < recent_.size() && same_bytes(recent_[i].name, name)) {
            idx = recent_[i].index;
        } else {
            idx = find(name);
            if (idx == kUnknownFeature) continue;
            remember_recent(i, name, idx);  // indices never change once given
        }
        out.push_back({idx, e.value});
    }
}

void FeatureDictionary::learn_resolve(const Observation& x, const std::vector<std::string>& ignore,
                                      std::vector<FeatureTerm>& out) {
    out.clear();
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        if (e.missing) continue;
        if (!ignore.empty() && ignored_key(ignore, x.key(e))) continue;
        const std::string_view name = x.name(e);
        uint32_t idx;
        if (i < recent_.size() && same_bytes(recent_[i].name, name)) {
            idx = recent_[i].index;
        } else {
            idx = add(name, e.type);
            if (idx == kUnknownFeature) continue;  // a full bounded dictionary
            remember_recent(i, name, idx);
        }
        out.push_back({idx, e.value});
    }
}

void FeatureDictionary::resolve_dense(const double* x, size_t n, const std::vector<std::string>& ignore,
                                      std::vector<FeatureTerm>& out) const {
    if (dense_n_ != n) {
        dense_.assign(n, kUnknownFeature);
        for (size_t i = 0; i < n; i++) {
            const std::string nm = position_name(i);
            if (!ignored_key(ignore, nm)) dense_[i] = find(nm);
        }
        dense_n_ = n;
    }
    out.clear();
    for (size_t i = 0; i < n; i++)
        if (dense_[i] != kUnknownFeature) out.push_back({dense_[i], x[i]});
}

void FeatureDictionary::learn_resolve_dense(const double* x, size_t n, const std::vector<std::string>& ignore,
                                            std::vector<FeatureTerm>& out) {
    if (dense_n_ != n || std::count(dense_.begin(), dense_.end(), kUnknownFeature) != 0) {
        for (size_t i = 0; i < n; i++) {
            const std::string nm = position_name(i);
            if (!ignored_key(ignore, nm)) add(nm, FeatureType::Numeric);
        }
        dense_n_ = SIZE_MAX;
    }
    resolve_dense(x, n, ignore, out);
}

// ---- feature mismatches ------------------------------------------------------------------------

void FeatureDictionary::build_check_keys() const {
    if (check_keys_names_ == names_.size()) return;
    check_keys_.clear();
    for (size_t j = 0; j < names_.size(); j++) {
        // A categorical name learned was "key=value": a key holding '=' is cut at its first one
        // (the value is unknown where the key ended), so such a key may be misjudged.
        const FeatureType t = type(j);
        check_keys_[std::string(key_of(names_[j], t))] |= t == FeatureType::Categorical ? kKeyCategorical : kKeyNumeric;
    }
    check_keys_names_ = names_.size();
    check_recent_.clear();
    check_dense_n_ = SIZE_MAX;
}

// The verdict on one entry of an observation (cached by position: a stream repeats its names).
FeatureDictionary::CheckedName FeatureDictionary::check_entry(const Observation& x, const Observation::Entry& e) const {
    const std::string_view name = x.name(e), key = x.key(e);
    CheckedName c{std::string(name), e.missing, false, CheckIssue::None};
    scratch_.assign(key.data(), key.size());
    const auto k = check_keys_.find(scratch_);
    const uint8_t flags = k == check_keys_.end() ? 0 : k->second;
    // A NULL carries no value: it is never unknown, whatever its name.
    const bool known = e.missing ? flags != 0 : find(name) != kUnknownFeature;
    c.present = known || flags != 0;
    if (known || e.missing || !complete()) return c;
    if (e.type == FeatureType::Categorical)
        c.issue = (flags & kKeyCategorical) ? CheckIssue::UnknownCategory
                  : (flags & kKeyNumeric)   ? CheckIssue::TypeMismatch
                                            : CheckIssue::UnknownFeature;
    else
        c.issue = (flags & kKeyCategorical) ? CheckIssue::TypeMismatch : CheckIssue::UnknownFeature;
    return c;
}

void FeatureDictionary::check(const Observation& x, const std::vector<std::string>& ignore, FeatureCheck& out,
                              bool name_missing) const {
    out.clear();
    if (names_.empty()) return;  // nothing learned by name: nothing to compare with
    build_check_keys();
    out.checked = true;
    out.names_known = complete();
    size_t present = 0;
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        const std::string_view key = x.key(e);
        if (!ignore.empty() && ignored_key(ignore, key)) continue;
        const std::string_view name = x.name(e);
        if (i >= check_recent_.size() || check_recent_[i].missing != e.missing ||
            !same_bytes(check_recent_[i].name, name)) {
            if (i >= check_recent_.size()) check_recent_.resize(i + 1);
            check_recent_[i] = check_entry(x, e);
        }
        const CheckedName& c = check_recent_[i];
        present += c.present;
        switch (c.issue) {
            case CheckIssue::None: break;
            case CheckIssue::UnknownFeature:
                if (out.unknown_features++ == 0) out.unknown_feature.assign(key);
                break;
            case CheckIssue::UnknownCategory:
                if (out.unknown_categories++ == 0) {
                    out.category_key.assign(key);
                    out.category_value.assign(name.substr(key.size() + 1));
                }
                break;
            case CheckIssue::TypeMismatch:
                if (out.type_mismatches++ == 0) {
                    out.mismatch.assign(key);
                    out.mismatch_is_string = e.type == FeatureType::Categorical;
                    if (out.mismatch_is_string) out.mismatch_value.assign(name.substr(key.size() + 1));
                }
                break;
        }
    }
    // Each key of a row or a JSON object comes once, so the keys present are counted once.
    out.missing_features = static_cast<uint32_t>(present < check_keys_.size() ? check_keys_.size() - present : 0);
    if (out.missing_features == 0 || !name_missing) return;
    std::unordered_map<std::string_view, bool> given;
    for (size_t i = 0; i < x.size(); i++) given[x.key(x[i])] = true;
    for (size_t j = 0; j < names_.size() && out.missing_feature.empty(); j++) {
        const std::string_view key = key_of(names_[j], type(j));
        if (!given.count(key)) out.missing_feature.assign(key);
    }
}

void FeatureDictionary::check_dense(size_t n, const std::vector<std::string>& ignore, FeatureCheck& out) const {
    out.clear();
    if (names_.empty()) return;
    build_check_keys();
    if (check_dense_n_ == n && check_dense_ignored_ == ignore.size()) {  // every array of a stream has one length
        if (check_dense_.any()) {
            out = check_dense_;
        } else {
            out.checked = check_dense_.checked;
            out.names_known = check_dense_.names_known;
        }
        return;
    }
    // The array's element i is the numeric feature x<i+1> (as the model learned it from arrays).
    out.checked = true;
    out.names_known = complete();
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        const std::string nm = position_name(i);
        if (ignored_key(ignore, nm)) continue;
        const auto k = check_keys_.find(nm);
        const uint8_t flags = k == check_keys_.end() ? 0 : k->second;
        present += flags != 0;
        if ((flags & kKeyNumeric) || !out.names_known) continue;
        if (flags) {
            if (out.type_mismatches++ == 0) out.mismatch = nm;
        } else if (out.unknown_features++ == 0) {
            out.unknown_feature = nm;
        }
    }
    out.missing_features = static_cast<uint32_t>(present < check_keys_.size() ? check_keys_.size() - present : 0);
    for (size_t j = 0; j < names_.size() && out.missing_features != 0 && out.missing_feature.empty(); j++) {
        const bool categorical = type(j) == FeatureType::Categorical;
        const std::string_view key = key_of(names_[j], type(j));
        // Given when the key is x<k> (k in 1..n, no leading zero) and learned as a number.
        size_t pos = 0;
        bool digits = !categorical && key.size() > 1 && key[0] == 'x' && key[1] != '0';
        for (size_t c = 1; digits && c < key.size(); c++) {
            digits = key[c] >= '0' && key[c] <= '9' && pos <= n;
            pos = pos * 10 + static_cast<size_t>(key[c] - '0');
        }
        if (!(digits && pos >= 1 && pos <= n)) out.missing_feature.assign(key);
    }
    check_dense_n_ = n;
    check_dense_ignored_ = ignore.size();
    check_dense_ = out;
}

std::string FeatureDictionary::closest(std::string_view name) const {
    if (names_.empty()) return {};
    build_check_keys();
    // An unknown category ("key=value" of a key learned as categorical) is compared with the
    // key's values learned; any other name with the keys learned.
    const size_t eq = name.find('=');
    std::vector<std::string_view> candidates;
    if (eq != std::string_view::npos) {
        auto k = check_keys_.find(std::string(name.substr(0, eq)));
        if (k != check_keys_.end() && (k->second & kKeyCategorical)) {
            const std::string_view prefix = name.substr(0, eq + 1);
            for (size_t j = 0; j < names_.size(); j++)
                if (type(j) == FeatureType::Categorical && std::string_view(names_[j]).substr(0, prefix.size()) == prefix)
                    candidates.emplace_back(names_[j]);
        }
    }
    if (candidates.empty())
        for (const auto& k : check_keys_) candidates.emplace_back(k.first);
    std::string_view best;
    for (auto c : candidates)  // the same name in another case first
        if (same_folded(c, name) && (best.empty() || c < best)) best = c;
    if (!best.empty()) return std::string(best);
    // Then the nearest within an edit or two (one for short names), the first in byte order of
    // equally near ones.
    const size_t limit = name.size() <= 4 ? 1 : 2;
    size_t best_d = limit + 1;
    for (auto c : candidates) {
        const size_t d = edit_distance(name, c, limit);
        if (d < best_d || (d == best_d && d <= limit && c < best)) {
            best_d = d;
            best = c;
        }
    }
    return best_d <= limit ? std::string(best) : std::string();
}

// ---- storage -----------------------------------------------------------------------------------

std::string FeatureDictionary::invalid() const {
    if (names_.size() != types_.size()) return "feature types do not match feature names";
    if (names_.size() > limit_) return "too many feature names";
    if (index_.size() != names_.size()) return "feature names repeat";
    for (size_t i = 0; i < names_.size(); i++) {
        const std::string& nm = names_[i];
        if (nm.size() > kMaxDictionaryNameBytes) return "feature name too long";
        if (!is_valid_utf8(nm) || nm.find('\0') != std::string::npos)
            return "feature name is not UTF-8 text without NUL bytes";
        if (types_[i] > 1) return "unknown feature type";
    }
    return {};
}

void FeatureDictionary::assign(std::vector<std::string> names, std::vector<uint8_t> types) {
    names_ = std::move(names);
    types_ = std::move(types);
    rebuild_index();
}

void FeatureDictionary::rebuild_index() {
    index_.clear();
    index_.reserve(names_.size());
    for (size_t i = 0; i < names_.size(); i++) index_.emplace(names_[i], static_cast<uint32_t>(i));
    recent_.clear();
    dense_n_ = SIZE_MAX;
    check_keys_names_ = SIZE_MAX;
    check_recent_.clear();
    check_dense_n_ = SIZE_MAX;
}

size_t FeatureDictionary::encoded_size() const {
    size_t n = 4;
    for (const auto& nm : names_) n += 5 + nm.size();
    return n;
}

void FeatureDictionary::encode(detail::ByteWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(names_.size()));
    for (size_t i = 0; i < names_.size(); i++) {
        w.put<uint32_t>(static_cast<uint32_t>(names_[i].size()));
        w.put<uint8_t>(types_[i]);
        w.bytes(names_[i].data(), names_[i].size());
    }
}

void FeatureDictionary::decode(detail::ByteReader& r) {
    const auto n = r.get<uint32_t>("feature names");
    if (n > limit_ || n > r.remaining() / 5) r.corrupt("feature count out of range");
    names_.clear();
    types_.clear();
    names_.reserve(n);
    for (uint32_t i = 0; i < n; i++) {
        const auto len = r.get<uint32_t>("feature names");
        const auto type = r.get<uint8_t>("feature names");
        if (len > kMaxDictionaryNameBytes) r.corrupt("feature name too long");
        const uint8_t* p = r.take(len, "feature names");
        names_.emplace_back(reinterpret_cast<const char*>(p), len);
        types_.push_back(type);
    }
    rebuild_index();
    if (std::string why = invalid(); !why.empty()) r.corrupt(why);
}

json FeatureDictionary::to_json() const {
    json types = json::array();
    for (auto t : types_) types.push_back(t == 0 ? "numeric" : "categorical");
    return {{"names", names_}, {"types", types}};
}

void FeatureDictionary::from_json(const json& j) {
    auto bad = [](const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); };
    if (!j.is_object() || j.size() != 2 || !j.contains("names") || !j.contains("types"))
        bad("\"features\" must be an object with the keys \"names\" and \"types\"");
    const json& names = j["names"];
    const json& types = j["types"];
    if (!names.is_array() || !types.is_array() || names.size() != types.size())
        bad("\"features\" must hold two arrays of one length");
    if (names.size() > limit_) bad("too many feature names");
    names_.clear();
    types_.clear();
    for (size_t i = 0; i < names.size(); i++) {
        if (!names[i].is_string()) bad("feature names must be strings");
        if (types[i] != "numeric" && types[i] != "categorical")
            bad("feature types must be \"numeric\" or \"categorical\"");
        names_.push_back(names[i].get<std::string>());
        types_.push_back(types[i] == "numeric" ? 0 : 1);
    }
    rebuild_index();
    if (std::string why = invalid(); !why.empty()) bad(why);
}

void check_dense_input(const double* x, size_t n, uint32_t dense_dim) {
    if (n == 0) fail(ErrorKind::InvalidParameter, "feature array is empty");
    if (n > kMaxDictionaryNames)
        fail(ErrorKind::ProgramLimit, "feature array is too long",
             "it has " + std::to_string(n) + " elements; the limit is " + std::to_string(kMaxDictionaryNames));
    if (dense_dim != 0 && n != dense_dim)
        fail(ErrorKind::InvalidParameter,
             "feature array has " + std::to_string(n) + " elements but the model was trained on " +
                 std::to_string(dense_dim),
             {}, "Every float8[] given to one model must have the same length.");
    for (size_t i = 0; i < n; i++)
        if (!std::isfinite(x[i]))
            fail(ErrorKind::NumericRange,
                 "element " + std::to_string(i + 1) + " of the feature array is " + (std::isnan(x[i]) ? "NaN" : "infinite"),
                 {}, "Features must be finite numbers.");
}

}  // namespace pg_learn::core
