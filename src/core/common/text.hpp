// Text helpers shared by the core: UTF-8 validation, cutting names for messages, readable numbers.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace pg_learn::core {

// Names quoted in error messages are cut to this many bytes (at a character boundary).
inline constexpr size_t kMessageNameBytes = 64;

// Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates U+D800..U+DFFF, nothing above U+10FFFF), or s.size() when the
// whole string is valid. The same rules as PostgreSQL's UTF8 encoding and nlohmann/json.
size_t utf8_invalid_offset(std::string_view s);
inline bool is_valid_utf8(std::string_view s) { return utf8_invalid_offset(s) == s.size(); }

// s as valid UTF-8 for a JSON summary: s itself when valid, else s with each ill-formed sequence
// replaced by U+FFFD exactly as nlohmann/json's error_handler_t::replace writes it. Categorical
// values are the database's bytes (another encoding than UTF-8, or a stored value's text form,
// may carry any byte), and a summary built from them must dump with the default strict handler.
std::string utf8_or_replacement(std::string_view s);

// The longest prefix of s of at most max_bytes bytes that does not end inside a UTF-8
// character: a cut never splits a multi-byte sequence, so a valid name stays valid.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);
// A user-supplied name as quoted in an error message: its prefix of kMessageNameBytes.
inline std::string message_name(std::string_view s) { return std::string(utf8_prefix(s, kMessageNameBytes)); }

// The shortest decimal text that reads back as exactly v, in plain notation when the decimal
// exponent is within [-5, 15] ("0.999999999", "1000000", "-0.5") and as "<digits>e<exp>"
// otherwise ("1e300", "2.5e-8"); "inf", "-inf" or "nan" for those values.
std::string format_double(double v);

}  // namespace pg_learn::core
