// libFuzzer harness: the binary form of the HyperLogLog sketch, as ml_stats embeds it (test/fuzz/state_harness.hpp).
#include "codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return pg_learn::fuzz::fuzz_binary<pg_learn::fuzz::HllCodec, /*canonical=*/false>(data, size);  // registers are read dense or sparse, and written in the shorter form
}
