// The two harness shapes of the stored values (test/fuzz/fuzz_*.cpp): a binary form and a text
// form, each through a Codec that says how a type encodes, decodes and is used.
#pragma once

#include "fuzz_util.hpp"

#include <optional>
#include <string>

namespace pg_learn::fuzz {

// Codec<T> provides:
//   static std::string encode(const T&);
//   static T decode(const uint8_t*, size_t);
//   static constexpr bool has_text; static std::string to_text(const T&); static T from_text(const std::string&);
//   static void use(const T&): reads the value every way SQL can (summaries, metrics, merging
//     with itself), each through accepts() or must(); ends by checking the merged value's round trip.

// A value the project holds: its binary form reads back to the same bytes, its text form to the
// same value and the same text.
template <typename C, typename T>
void check_round_trips(const T& v, const std::string& encoded) {
    must("a value's own binary form reads back", [&] {
        const T back = C::decode(bytes_of(encoded), encoded.size());
        FUZZ_REQUIRE(C::encode(back) == encoded, "decode(encode(v)) re-encodes to the same bytes");
    });
    if constexpr (C::has_text) {
        must("a value's own text form reads back", [&] {
            const std::string text = C::to_text(v);
            const T back = C::from_text(text);
            FUZZ_REQUIRE(C::encode(back) == encoded, "from_text(to_text(v)) encodes to v's bytes");
            FUZZ_REQUIRE(C::to_text(back) == text, "from_text(to_text(v)) prints the same text");
        });
    }
}

// Binary input. canonical: the decoder accepts only the bytes the encoder writes, so whatever
// decodes re-encodes to the input itself.
template <typename C, bool canonical = true>
int fuzz_binary(const uint8_t* data, size_t size) {
    using T = decltype(C::decode(data, size));
    std::optional<T> v;
    if (!accepts([&] { v.emplace(C::decode(data, size)); })) return 0;
    std::string encoded;
    must("an accepted value re-encodes", [&] { encoded = C::encode(*v); });
    if constexpr (canonical)
        FUZZ_REQUIRE(encoded == std::string(reinterpret_cast<const char*>(data), size),
                     "an accepted binary value re-encodes to the same bytes");
    check_round_trips<C>(*v, encoded);
    C::use(*v);
    return 0;
}

// Text input, as the type's input function sees it (a C string).
template <typename C>
int fuzz_text(const uint8_t* data, size_t size) {
    using T = decltype(C::decode(data, size));
    const std::string text = c_string(data, size);
    std::optional<T> v;
    if (!accepts([&] { v.emplace(C::from_text(text)); })) return 0;
    std::string encoded;
    must("an accepted value encodes", [&] { encoded = C::encode(*v); });
    check_round_trips<C>(*v, encoded);
    C::use(*v);
    return 0;
}

// Merging a value with itself (as a parallel aggregate's combine step may): refused with a
// core::Error (a count beyond its range, too many features) or a value that round-trips.
template <typename C, typename T>
void merge_with_itself(const T& v) {
    T m = v;
    if (!accepts([&] { m.merge(v); })) return;
    std::string encoded;
    must("a merged value encodes", [&] { encoded = C::encode(m); });
    check_round_trips<C>(m, encoded);
}

}  // namespace pg_learn::fuzz
