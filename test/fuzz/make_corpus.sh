#!/usr/bin/env bash
# Regenerates the seed corpus test/fuzz/corpus/<harness>/ from real values (make_corpus.cpp,
# built with the harnesses: cmake -DPG_LEARN_FUZZ=ON). Usage: bash test/fuzz/make_corpus.sh [BUILD_DIR]
# The inputs of fixed fuzz findings, test/fuzz/corpus/<harness>/regress-<bug> (each with a unit
# test named after it), are kept: every fuzz run replays them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-fuzz}"
cmake -S "$root" -B "$build" -DPG_LEARN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 >/dev/null
cmake --build "$build" --target make_fuzz_corpus -j"$(nproc)" >/dev/null
[ ! -d "$root/test/fuzz/corpus" ] || find "$root/test/fuzz/corpus" -type f ! -name 'regress-*' -delete
ASAN_OPTIONS=detect_leaks=0 "$build/make_fuzz_corpus" "$root/test/fuzz/corpus"
find "$root/test/fuzz/corpus" -type f ! -name 'regress-*' | wc -l
