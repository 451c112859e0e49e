// The binary envelope every stored value shares (docs/format.md, "The shared envelope"): magic,
// format version, length and checksum, each type's layout described by a HeaderSpec; the
// ml_model header on top of it; and the JSON depth guard.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/common/byte_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace pg_learn::core {

// ---- the header of every binary value ----------------------------------------------------------

// Every value starts with a 4-byte magic and a u16 format version. What else its header holds
// differs by type (values stored by 0.1.0 are read and written bit for bit), so a HeaderSpec
// says where the length and the checksum live and which messages the type's errors use.

enum class LengthField : uint8_t {
    None,       // the type's own fields say where it ends (the sketches, embedded in ml_stats)
    Total32,    // u32 at length_at: every byte of the value, header included
    Payload64,  // u64 at length_at: the bytes after the header
};

enum class ChecksumKind : uint8_t {
    None,
    // hash64 of the bytes after the header, written into a copy of the header in place of the
    // checksum field, then hash64 of that header: every byte but the field's own (ml_model).
    Envelope,
    // xxh64 (seeded) of the bytes before the field, chained as the seed of xxh64 of the bytes
    // after it: every byte but the field's own.
    AllButField,
    // xxh64 (seed 0) of the bytes after the header only.
    Payload,
};

// How a type words a value too short to hold its header, a wrong magic and a version it does
// not read other than a newer one: each type's messages of release 0.1.0, which the pg_regress
// outputs hold. A newer version has one message for every type (check_format_version).
enum class HeaderWording : uint8_t {
    Model,   // "too short (N bytes)" first; "bad magic number"; "format version 0"
    Stats,   // "too short (N bytes)" first; "bad magic number"; "unsupported <what> format version N"
    Brief,   // "truncated in header"; "bad magic"; "unsupported format version N"
};

struct HeaderSpec {
    const char* what;  // the type in messages: "ml_stats"
    char magic[4];
    uint16_t version;  // the newest format version read, and the one written
    size_t size;       // bytes of the fixed header
    LengthField length;
    size_t length_at;
    ChecksumKind checksum;
    size_t checksum_at;
    uint64_t seed;  // of ChecksumKind::AllButField
    HeaderWording wording;
};

// Writes the magic and the format version; the type writes its own fields after them, with zeros
// in place of the length and the checksum, which seal_header fills in.
void begin_header(const HeaderSpec& spec, detail::ByteWriter& w);
// Writes the length field and then the checksum of a complete value of `size` bytes.
void seal_header(const HeaderSpec& spec, uint8_t* data, size_t size);
uint64_t header_checksum(const HeaderSpec& spec, const uint8_t* data, size_t size);

// Reads and checks the magic and the format version through r (left just after the version):
// a value too short for its header (where the wording checks that first), a wrong magic, a
// version this build does not read. Returns the version.
uint16_t open_header(const HeaderSpec& spec, detail::ByteReader& r, size_t size);
// Checks a value of `size` bytes whose header open_header accepted: the length field, then
// (check_sum) the checksum. Reads the fields from data at their offsets; r is not needed.
void verify_header(const HeaderSpec& spec, const uint8_t* data, size_t size, bool check_sum = true);
// open_header then verify_header, r left after the fixed header: for a type whose own header
// fields are checked after the envelope's (read them from data with header_field).
uint16_t read_header(const HeaderSpec& spec, detail::ByteReader& r, const uint8_t* data, size_t size,
                     bool check_sum = true);
template <typename T>
T header_field(const uint8_t* data, size_t at) {
    T v;
    std::memcpy(&v, data + at, sizeof v);
    return v;
}
// The error for a format version newer than the spec's: the same for every type.
[[noreturn]] void newer_format_version(const char* what, uint64_t version, uint16_t newest);
// The error of an encoder whose value its own decoder would refuse: every type's encoder runs
// the validation its decoder runs (one function per type, both paths), so that a value that
// cannot be read back is never written. NumericRange (22003): an update produced it (values
// whose running sums left the double range, say), and the statement that asked fails instead.
[[noreturn]] void unstorable(const char* what, const std::string& why);

// ---- ml_model ----------------------------------------------------------------------------------

inline constexpr char kModelMagic[4] = {'P', 'G', 'L', 'M'};
// The newest format version this build reads and the one it writes.
inline constexpr uint16_t kModelFormatVersion = 1;
inline constexpr size_t kEnvelopeHeaderSize = 48;
inline constexpr size_t kEnvelopeChecksumOffset = 32;
inline constexpr size_t kMaxModelBytes = 1000u * 1024 * 1024;  // under PostgreSQL's 1 GB varlena limit

extern const HeaderSpec kModelHeader;

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

// ---- JSON --------------------------------------------------------------------------------------

// True when JSON text nests deeper than `limit` (counted before parsing: the parser recurses).
bool json_too_deep(const char* text, size_t len, int limit);
// Refuses JSON text nested deeper than `limit`: "<what> text is nested too deeply".
void check_json_depth(const char* text, size_t len, int limit, const char* what);

}  // namespace pg_learn::core
