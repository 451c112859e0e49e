// Little-endian byte writer and bounds-checked reader shared by the sketches' binary forms.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/common/error.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the sketches' binary formats are little-endian; big-endian hosts are not supported yet"
#endif

namespace pg_learn::core::detail {

static_assert(sizeof(double) == 8, "IEEE doubles expected");

class ByteWriter {
public:
    explicit ByteWriter(std::string& out) : out_(out) {}
    void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
    template <typename T> void put(T v) { bytes(&v, sizeof v); }

private:
    std::string& out_;
};

// Every read is checked against the end of the buffer; a short or corrupted buffer throws
// InvalidBinary naming the type ("invalid binary <what>: <why>"), never reads past the end.
class ByteReader {
public:
    ByteReader(const uint8_t* p, size_t n, const char* what) : p_(p), n_(n), what_(what) {}
    [[noreturn]] void corrupt(const std::string& why) const {
        fail(ErrorKind::InvalidBinary, std::string("invalid binary ") + what_ + ": " + why);
    }
    void bytes(void* dst, size_t n, const char* field) {
        if (n > n_ - pos_) corrupt(std::string("truncated in ") + field);
        if (n) std::memcpy(dst, p_ + pos_, n);
        pos_ += n;
    }
    template <typename T> T get(const char* field) {
        T v;
        bytes(&v, sizeof v, field);
        return v;
    }
    const uint8_t* take(size_t n, const char* field) {
        if (n > n_ - pos_) corrupt(std::string("truncated in ") + field);
        const uint8_t* r = p_ + pos_;
        pos_ += n;
        return r;
    }
    size_t remaining() const { return n_ - pos_; }
    void expect_end() const {
        if (pos_ != n_) corrupt(std::to_string(n_ - pos_) + " trailing bytes");
    }

private:
    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
    const char* what_;
};

inline uint64_t double_bits(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
}

// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of java.util.SplittableRandom).
inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace pg_learn::core::detail
