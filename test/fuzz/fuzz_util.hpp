// Shared by the libFuzzer harnesses of test/fuzz (docs/testing.md, "Fuzzing"). A harness feeds
// untrusted bytes to one decoder or parser of the core and checks properties, not only the
// absence of a crash:
//  - a refusal is a core::Error (the type the glue maps to a SQLSTATE); any other exception
//    aborts the run, as a crash or a sanitizer report does;
//  - what is accepted re-encodes to a canonical form that reads back to the same bytes (and
//    the same text), and can be used (summaries, metrics, merging, learning) without failing
//    on the project's own values.
#pragma once

#include "core/common/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace pg_learn::fuzz {

[[noreturn]] inline void broken(const char* property, const std::string& detail) {
    std::fprintf(stderr, "\nPROPERTY VIOLATED: %s\n  %s\n", property, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

#define FUZZ_REQUIRE(cond, property)                                                    \
    do {                                                                                \
        if (!(cond)) ::pg_learn::fuzz::broken(property, "failed: " #cond);              \
    } while (0)

// Untrusted input: true when f succeeded, false when it was refused with a core::Error.
// Any other exception breaks the harness's contract.
template <typename F>
bool accepts(F&& f) {
    try {
        f();
        return true;
    } catch (const core::Error&) {
        return false;
    } catch (const std::exception& e) {
        broken("a refusal is a core::Error", std::string("got std::exception: ") + e.what());
    } catch (...) {
        broken("a refusal is a core::Error", "got an exception of another type");
    }
}

// The project's own values (what it encoded itself): nothing may throw.
template <typename F>
void must(const char* property, F&& f) {
    try {
        f();
    } catch (const core::Error& e) {
        broken(property, std::string("core::Error: ") + e.what());
    } catch (const std::exception& e) {
        broken(property, std::string("std::exception: ") + e.what());
    } catch (...) {
        broken(property, "an exception of another type");
    }
}

// The input as a SQL type's text input sees it: a C string (up to the first NUL byte).
inline std::string c_string(const uint8_t* data, size_t size) {
    const void* nul = std::memchr(data, 0, size);
    return std::string(reinterpret_cast<const char*>(data),
                       nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - data) : size);
}

inline const uint8_t* bytes_of(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace pg_learn::fuzz
