// The binary envelope every ml_model shares (docs/format.md): magic, format version, kind,
// identity, counters, checksum, section count and length; and the JSON depth guard.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pg_learn::core {

inline constexpr char kModelMagic[4] = {'P', 'G', 'L', 'M'};
// The newest format version this build reads and the one it writes.
inline constexpr uint16_t kModelFormatVersion = 1;
inline constexpr size_t kEnvelopeHeaderSize = 48;
inline constexpr size_t kEnvelopeChecksumOffset = 32;
inline constexpr size_t kMaxModelBytes = 1000u * 1024 * 1024;  // under PostgreSQL's 1 GB varlena limit

struct EnvelopeHeader {
    uint16_t version;
    uint16_t kind;
    uint64_t identity;
    uint64_t updates;
    uint64_t n_seen;
    uint64_t checksum;
    uint32_t sections;
    uint32_t total;
};

// Reads and checks the header of a value of `size` bytes: magic, a format version this build
// reads (a newer one is refused with a message saying so), the length field, the checksum.
// `what` names the type in messages ("ml_model").
// check_sum false: everything but the checksum (to learn the kind before a family reads on).
EnvelopeHeader read_envelope(const uint8_t* data, size_t size, const char* what, bool check_sum = true);
// Writes the header (checksum zero) into out[0..48).
void write_envelope(uint8_t* out, const EnvelopeHeader& h);
// The checksum over every byte but the checksum field itself, and sealing a value with it.
uint64_t envelope_checksum(const uint8_t* data, size_t size);
void seal_envelope(uint8_t* data, size_t size);

// Refuses JSON text nested deeper than `limit` before it is parsed (the parser recurses).
void check_json_depth(const char* text, size_t len, int limit, const char* what);

}  // namespace pg_learn::core
