// libFuzzer harness: the binary form of the Space-Saving top-k summary, as ml_stats embeds it (test/fuzz/state_harness.hpp).
#include "codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return pg_learn::fuzz::fuzz_binary<pg_learn::fuzz::TopKCodec>(data, size);
}
