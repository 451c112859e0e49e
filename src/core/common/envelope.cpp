// The shared binary envelope (docs/format.md, "The shared envelope"): header checks, sealing,
// checksums for every layout, the ml_model header, and the JSON depth guard.
#include "core/common/envelope.hpp"

#include "core/common/error.hpp"
#include "core/common/xxhash.hpp"
#include "core/features/observation.hpp"

#include <cstring>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;

static_assert(sizeof(double) == 8, "IEEE doubles expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the binary formats are little-endian; big-endian hosts are not supported yet"
#endif

namespace {

[[noreturn]] void corrupt(const HeaderSpec& spec, const std::string& why) {
    fail(ErrorKind::InvalidBinary, std::string("invalid binary ") + spec.what + ": " + why);
}

}  // namespace

// ---- every type ---------------------------------------------------------------------------------

void begin_header(const HeaderSpec& spec, ByteWriter& w) {
    w.bytes(spec.magic, 4);
    w.put<uint16_t>(spec.version);
}

uint64_t header_checksum(const HeaderSpec& spec, const uint8_t* data, size_t size) {
    switch (spec.checksum) {
        case ChecksumKind::None: return 0;
        case ChecksumKind::Envelope: {
            // A change confined to one aligned 8-byte word of the body or of the header always
            // changes it (every step of hash64 is a bijection).
            uint8_t header[kEnvelopeHeaderSize];
            if (spec.size > sizeof header) fail(ErrorKind::Internal, "envelope header too large");
            std::memcpy(header, data, spec.size);
            const uint64_t body = hash64(data + spec.size, size - spec.size);
            std::memcpy(header + spec.checksum_at, &body, 8);
            return hash64(header, spec.size);
        }
        case ChecksumKind::AllButField: {
            const size_t after = spec.checksum_at + 8;
            const uint64_t head = xxh64(data, spec.checksum_at, spec.seed);
            return xxh64(data + after, size - after, head);
        }
        case ChecksumKind::Payload: return xxh64(data + spec.size, size - spec.size);
    }
    return 0;
}

void seal_header(const HeaderSpec& spec, uint8_t* data, size_t size) {
    if (size < spec.size) fail(ErrorKind::Internal, std::string(spec.what) + " encoder wrote no header");
    if (spec.length == LengthField::Total32) {
        if (size > UINT32_MAX) fail(ErrorKind::ProgramLimit, std::string(spec.what) + " value too large");
        const uint32_t total = static_cast<uint32_t>(size);
        std::memcpy(data + spec.length_at, &total, 4);
    } else if (spec.length == LengthField::Payload64) {
        const uint64_t payload = size - spec.size;
        std::memcpy(data + spec.length_at, &payload, 8);
    }
    if (spec.checksum != ChecksumKind::None) {
        const uint64_t sum = header_checksum(spec, data, size);
        std::memcpy(data + spec.checksum_at, &sum, 8);
    }
}

void newer_format_version(const char* what, uint64_t version, uint16_t newest) {
    fail(ErrorKind::InvalidBinary,
         std::string(what) + " format version " + std::to_string(version) + " is newer than this pg_learn reads",
         "this build reads format versions up to " + std::to_string(newest),
         "The value was written by a newer pg_learn: upgrade the extension to read it.");
}

void unstorable(const char* what, const std::string& why) {
    fail(ErrorKind::NumericRange, std::string(what) + " value cannot be stored: " + why,
         "The update would have stored a value that cannot be read back, and was refused.",
         "Values near the limits of float8 (magnitudes about 1e154 and more, whose squares overflow) "
         "cannot be summarised; scale them down first.");
}

uint16_t open_header(const HeaderSpec& spec, ByteReader& r, size_t size) {
    const bool brief = spec.wording == HeaderWording::Brief;
    if (!brief && size < spec.size) corrupt(spec, "too short (" + std::to_string(size) + " bytes)");
    char magic[4];
    r.bytes(magic, 4, "header");
    if (std::memcmp(magic, spec.magic, 4) != 0) corrupt(spec, brief ? "bad magic" : "bad magic number");
    const uint16_t version = r.get<uint16_t>("header");
    if (version > spec.version) newer_format_version(spec.what, version, spec.version);
    if (version == 0) {  // no type has written format version 0
        switch (spec.wording) {
            case HeaderWording::Model: corrupt(spec, "format version 0");
            case HeaderWording::Stats:
                fail(ErrorKind::InvalidBinary, std::string("unsupported ") + spec.what + " format version 0",
                     "this build of pg_learn reads format version " + std::to_string(spec.version));
            case HeaderWording::Brief: corrupt(spec, "unsupported format version 0");
        }
    }
    return version;
}

void verify_header(const HeaderSpec& spec, const uint8_t* data, size_t size, bool check_sum) {
    if (size < spec.size) corrupt(spec, "truncated in header");  // open_header checked it unless brief
    if (spec.length == LengthField::Total32) {
        const uint32_t total = header_field<uint32_t>(data, spec.length_at);
        if (total != size)
            corrupt(spec, "length field says " + std::to_string(total) + " bytes, got " + std::to_string(size));
    } else if (spec.length == LengthField::Payload64) {
        if (header_field<uint64_t>(data, spec.length_at) != size - spec.size)
            corrupt(spec, "payload length does not match the data");
    }
    if (check_sum && spec.checksum != ChecksumKind::None &&
        header_checksum(spec, data, size) != header_field<uint64_t>(data, spec.checksum_at))
        corrupt(spec, "checksum mismatch");
}

uint16_t read_header(const HeaderSpec& spec, ByteReader& r, const uint8_t* data, size_t size, bool check_sum) {
    const uint16_t version = open_header(spec, r, size);
    verify_header(spec, data, size, check_sum);
    r.take(spec.size - 6, "header");
    return version;
}

// ---- ml_model -----------------------------------------------------------------------------------

const HeaderSpec kModelHeader{"ml_model",          {'P', 'G', 'L', 'M'},
                              kModelFormatVersion, kEnvelopeHeaderSize,
                              LengthField::Total32, 44,
                              ChecksumKind::Envelope, kEnvelopeChecksumOffset,
                              0,                   HeaderWording::Model};

uint64_t envelope_checksum(const uint8_t* data, size_t size) { return header_checksum(kModelHeader, data, size); }

void seal_envelope(uint8_t* data, size_t size) { seal_header(kModelHeader, data, size); }

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
    HeaderSpec spec = kModelHeader;
    spec.what = what;
    ByteReader r(data, size, what);
    EnvelopeHeader h;
    h.version = read_header(spec, r, data, size, check_sum);
    h.kind = header_field<uint16_t>(data, 6);
    h.identity = header_field<uint64_t>(data, 8);
    h.updates = header_field<uint64_t>(data, 16);
    h.n_seen = header_field<uint64_t>(data, 24);
    h.checksum = header_field<uint64_t>(data, 32);
    h.sections = header_field<uint32_t>(data, 40);
    h.total = header_field<uint32_t>(data, 44);
    return h;
}

// ---- JSON ---------------------------------------------------------------------------------------

bool json_too_deep(const char* text, size_t len, int limit) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') i++;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return true;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return false;
}

void check_json_depth(const char* text, size_t len, int limit, const char* what) {
    if (json_too_deep(text, len, limit))
        fail(ErrorKind::InvalidText, std::string(what) + " text is nested too deeply",
             "the limit is " + std::to_string(limit) + " levels");
}

}  // namespace pg_learn::core
