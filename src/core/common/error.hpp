// The exception type every core failure is thrown as; the glue maps its kind to a SQLSTATE.
#pragma once

#include "core/common/cpp_only.hpp"

#include <stdexcept>
#include <string>

namespace pg_learn::core {

enum class ErrorKind {
    InvalidText,       // 22P02 malformed text or JSON
    InvalidParameter,  // 22023 a well-formed but unacceptable option or value
    InvalidBinary,     // 22P03 a truncated or corrupted binary model
    NumericRange,      // 22003 NaN, infinity, or overflow in features, labels, weights
    NullValue,         // 22004 a NULL where none is allowed
    ProgramLimit,      // 54000 input or model too large
    Internal,          // XX000 a bug: an invariant of our own was broken
    FeatureNotSupported,  // 0A000 the model's kind does not offer what was asked (ml_explain)
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string detail = {},
          std::string hint = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)),
          hint_(std::move(hint)) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    ErrorKind kind_;
    std::string detail_;
    std::string hint_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message,
                              std::string detail = {}, std::string hint = {}) {
    throw Error(kind, message, std::move(detail), std::move(hint));
}

}  // namespace pg_learn::core
