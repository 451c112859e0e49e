// The shared binary envelope of ml_model values (docs/format.md "Header" and "Checksum").
#include "core/common/envelope.hpp"

#include "core/common/error.hpp"
#include "core/features/observation.hpp"

#include <cstring>

namespace pg_learn::core {

static_assert(sizeof(double) == 8, "IEEE doubles expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the binary formats are little-endian; big-endian hosts are not supported yet"
#endif

// hash64 of the body (bytes 48 to the end), written into a copy of the header in place of the
// checksum field, and hash64 of that 48-byte header: a change confined to one aligned 8-byte
// word of the body or of the header always changes it (every step of hash64 is a bijection).
uint64_t envelope_checksum(const uint8_t* data, size_t size) {
    uint8_t header[kEnvelopeHeaderSize];
    std::memcpy(header, data, kEnvelopeHeaderSize);
    const uint64_t body = hash64(data + kEnvelopeHeaderSize, size - kEnvelopeHeaderSize);
    std::memcpy(header + kEnvelopeChecksumOffset, &body, 8);
    return hash64(header, kEnvelopeHeaderSize);
}

void seal_envelope(uint8_t* data, size_t size) {
    const uint64_t sum = envelope_checksum(data, size);
    std::memcpy(data + kEnvelopeChecksumOffset, &sum, 8);
}

void write_envelope(uint8_t* out, const EnvelopeHeader& h) {
    std::memcpy(out, kModelMagic, 4);
    std::memcpy(out + 4, &h.version, 2);
    std::memcpy(out + 6, &h.kind, 2);
    std::memcpy(out + 8, &h.identity, 8);
    std::memcpy(out + 16, &h.updates, 8);
    std::memcpy(out + 24, &h.n_seen, 8);
    std::memset(out + 32, 0, 8);
    std::memcpy(out + 40, &h.sections, 4);
    std::memcpy(out + 44, &h.total, 4);
}

EnvelopeHeader read_envelope(const uint8_t* data, size_t size, const char* what, bool check_sum) {
    auto corrupt = [what](const std::string& why) {
        fail(ErrorKind::InvalidBinary, std::string("invalid binary ") + what + ": " + why);
    };
    if (size < kEnvelopeHeaderSize) corrupt("too short (" + std::to_string(size) + " bytes)");
    if (std::memcmp(data, kModelMagic, 4) != 0) corrupt("bad magic number");
    EnvelopeHeader h;
    std::memcpy(&h.version, data + 4, 2);
    std::memcpy(&h.kind, data + 6, 2);
    std::memcpy(&h.identity, data + 8, 8);
    std::memcpy(&h.updates, data + 16, 8);
    std::memcpy(&h.n_seen, data + 24, 8);
    std::memcpy(&h.checksum, data + 32, 8);
    std::memcpy(&h.sections, data + 40, 4);
    std::memcpy(&h.total, data + 44, 4);
    if (h.version == 0) corrupt("format version 0");
    if (h.version > kModelFormatVersion)
        fail(ErrorKind::InvalidBinary,
             std::string(what) + " format version " + std::to_string(h.version) + " is newer than this pg_learn reads",
             "this build reads format versions up to " + std::to_string(kModelFormatVersion),
             "The value was written by a newer pg_learn: upgrade the extension to read it.");
    if (h.total != size)
        corrupt("length field says " + std::to_string(h.total) + " bytes, got " + std::to_string(size));
    if (check_sum && envelope_checksum(data, size) != h.checksum) corrupt("checksum mismatch");
    return h;
}

void check_json_depth(const char* text, size_t len, int limit, const char* what) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                fail(ErrorKind::InvalidText, std::string(what) + " text is nested too deeply",
                     "the limit is " + std::to_string(limit) + " levels");
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
}

}  // namespace pg_learn::core
