// UTF-8 validation and cutting, and shortest round-trip number formatting, for the core.
#include "core/common/text.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pg_learn::core {

size_t utf8_invalid_offset(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        // RFC 3629, section 4: the second byte's range depends on the first byte.
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;  // no surrogates
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;  // nothing above U+10FFFF
        else return i;                           // 0x80..0xC1 (continuation, overlong) or 0xF5..0xFF
        if (len > n - i) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return n;
}

std::string utf8_or_replacement(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    // Rare (a database of another encoding): the JSON library's own replacement, so that the
    // result equals what dumping s with error_handler_t::replace gives.
    const std::string quoted =
        nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return nlohmann::json::parse(quoted).get<std::string>();
}

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    size_t cut = max_bytes;
    // Step back over continuation bytes (10xxxxxx) to the start of the character that the cut
    // would split; a UTF-8 character has at most 3 of them.
    for (int k = 0; k < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; k++) cut--;
    return s.substr(0, cut);
}

std::string format_double(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    // The fewest significant digits that read back exactly; at most 17 for a double.
    char sci[40];
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(sci, sizeof sci, "%.*e", digits - 1, v);
        if (std::strtod(sci, nullptr) == v) break;
    }
    snprintf(sci, sizeof sci, "%.*e", digits - 1, v);
    const char* e = sci;
    while (*e && *e != 'e') e++;
    const int exp10 = std::atoi(e + 1);
    char out[400];
    if (exp10 >= -5 && exp10 <= 15) {
        // The same digits in plain notation: the last one sits at 10^(exp10 - digits + 1).
        const int decimals = digits - 1 - exp10 > 0 ? digits - 1 - exp10 : 0;
        snprintf(out, sizeof out, "%.*f", decimals, v);
        return out;
    }
    // "<mantissa>e<exponent>" without the "+" and the leading zeros of the exponent.
    std::string mantissa(static_cast<const char*>(sci), e);
    return mantissa + "e" + std::to_string(exp10);
}

}  // namespace pg_learn::core
