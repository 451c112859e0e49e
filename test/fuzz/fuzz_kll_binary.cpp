// libFuzzer harness: the binary form of the KLL quantile sketch, as ml_stats embeds it (test/fuzz/state_harness.hpp).
#include "codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return pg_learn::fuzz::fuzz_binary<pg_learn::fuzz::KllCodec, /*canonical=*/false>(data, size);  // an empty sketch's min and max are read as any NaN and written as the quiet NaN
}
