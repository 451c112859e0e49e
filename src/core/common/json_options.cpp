// Strict reading of JSON options objects: keys, types and ranges, with the key's path in errors.
#include "core/common/json_options.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <cmath>

namespace pg_learn::core::detail {

using nlohmann::json;

namespace {

std::string type_of(const json& v) {
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_null()) return "null";
    if (v.is_array()) return "an array";
    return "an object";
}

std::string range_text(double lo, double hi) {
    if (std::isinf(hi)) return ">= " + format_double(lo);
    return "between " + format_double(lo) + " and " + format_double(hi);
}

}  // namespace

std::string JsonOptions::join(const std::string& path, std::string_view key) {
    return path.empty() ? message_name(key) : path + "." + message_name(key);
}

void JsonOptions::fail_at(const std::string& path, const std::string& why, std::string hint) const {
    fail(ErrorKind::InvalidParameter,
         std::string("invalid ") + what_ + ": " + (path.empty() ? why : "\"" + path + "\" " + why), {},
         std::move(hint));
}

json JsonOptions::parse(std::string_view text) const {
    // Numbers beyond double's range make nlohmann give up (jsonb accepts them): not valid here.
    const json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded())
        fail(ErrorKind::InvalidParameter, std::string("invalid ") + what_ + ": not valid JSON, or a number out of range");
    if (!j.is_object())
        fail(ErrorKind::InvalidParameter,
             std::string("invalid ") + what_ + ": a JSON object was expected, not " + type_of(j));
    return j;
}

void JsonOptions::require_object(const json& v, const std::string& path) const {
    if (!v.is_object()) fail_at(path, "must be an object, not " + type_of(v));
}

void JsonOptions::check_keys(const json& obj, const std::string& path,
                             std::initializer_list<const char*> keys) const {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool known = false;
        for (const char* k : keys) known = known || it.key() == k;
        if (known) continue;
        std::string list;
        for (const char* k : keys) list += std::string(list.empty() ? "" : ", ") + k;
        fail(ErrorKind::InvalidParameter,
             std::string("invalid ") + what_ + ": unknown key \"" + join(path, it.key()) + "\"", {},
             "valid keys" + (path.empty() ? std::string() : " of \"" + path + "\"") + ": " + list);
    }
}

double JsonOptions::number(const json& v, const std::string& path, double lo, double hi) const {
    if (!v.is_number()) fail_at(path, "must be a number " + range_text(lo, hi) + ", not " + type_of(v));
    const double d = v.get<double>();
    if (!(std::isfinite(d) && d >= lo && d <= hi))
        fail_at(path, "must be a number " + range_text(lo, hi) + ", not " + format_double(d));
    return d;
}

int64_t JsonOptions::integer(const json& v, const std::string& path, int64_t lo, int64_t hi) const {
    const std::string range = "between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (!v.is_number()) fail_at(path, "must be an integer " + range + ", not " + type_of(v));
    if (v.is_number_integer()) {
        // Unsigned values beyond int64 are out of range too.
        if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi))
            fail_at(path, "must be an integer " + range + ", not " + std::to_string(v.get<uint64_t>()));
        const int64_t i = v.get<int64_t>();
        if (i < lo || i > hi) fail_at(path, "must be an integer " + range + ", not " + std::to_string(i));
        return i;
    }
    const double d = v.get<double>();
    if (!(d == std::floor(d) && d >= double(lo) && d <= double(hi)))
        fail_at(path, "must be an integer " + range + ", not " + format_double(d));
    return static_cast<int64_t>(d);
}

bool JsonOptions::boolean(const json& v, const std::string& path) const {
    if (!v.is_boolean()) fail_at(path, "must be true or false, not " + type_of(v));
    return v.get<bool>();
}

std::string JsonOptions::string(const json& v, const std::string& path) const {
    if (!v.is_string()) fail_at(path, "must be a string, not " + type_of(v));
    return v.get<std::string>();
}

}  // namespace pg_learn::core::detail
