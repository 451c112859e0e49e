// libFuzzer harness: the binary form of ml_stats (test/fuzz/state_harness.hpp says what is checked).
#include "codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return pg_learn::fuzz::fuzz_binary<pg_learn::fuzz::StatsCodec, /*canonical=*/false>(data, size);  // a NaN of the moments is written as the one quiet NaN whatever its sign and payload
}
