// Strict reading of an options object given as JSON (ml_drift_report, ml_anomalies): unknown keys,
// wrong types and values out of range are InvalidParameter errors naming the key's path.
#pragma once

#include "core/common/cpp_only.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pg_learn::core::detail {

class JsonOptions {
public:
    // what names the options in messages: "invalid <what>: ...".
    explicit JsonOptions(const char* what) : what_(what) {}

    // The text as a JSON object (anything else is an error).
    nlohmann::json parse(std::string_view text) const;

    // Every key of obj (at path; "" for the top level) must be one of keys.
    void check_keys(const nlohmann::json& obj, const std::string& path,
                    std::initializer_list<const char*> keys) const;
    void require_object(const nlohmann::json& v, const std::string& path) const;

    // A finite number in [lo, hi].
    double number(const nlohmann::json& v, const std::string& path, double lo, double hi) const;
    // An integer (a number with no fractional part) in [lo, hi].
    int64_t integer(const nlohmann::json& v, const std::string& path, int64_t lo, int64_t hi) const;
    bool boolean(const nlohmann::json& v, const std::string& path) const;
    std::string string(const nlohmann::json& v, const std::string& path) const;

    [[noreturn]] void fail_at(const std::string& path, const std::string& why, std::string hint = {}) const;

    // "a.b" quoted for messages; key is cut as feature names are.
    static std::string join(const std::string& path, std::string_view key);

private:
    const char* what_;
};

}  // namespace pg_learn::core::detail
