// libFuzzer harness: the text form of ml_detector (test/fuzz/state_harness.hpp says what is checked).
#include "detector_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return pg_learn::fuzz::fuzz_text<pg_learn::fuzz::DetectorCodec>(data, size);
}
