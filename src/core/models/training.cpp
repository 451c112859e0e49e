// Epoch loop and shuffling for ml_train.
#include "core/models/training.hpp"

#include "core/common/error.hpp"

#include <numeric>
#include <utility>

namespace pg_learn::core {

void shuffle_order(std::vector<size_t>& order, SplitMix64& rng) {
    for (size_t i = order.size(); i > 1; i--) {
        size_t j = static_cast<size_t>(rng.next() % i);
        std::swap(order[i - 1], order[j]);
    }
}

void run_epochs(size_t n, int epochs, bool shuffle, uint64_t seed,
                const std::function<void(size_t)>& learn_row,
                const std::function<void()>& every_so_often) {
    if (epochs < 1 || epochs > kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "epochs must be between 1 and " + std::to_string(kMaxEpochs),
             "got " + std::to_string(epochs));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    SplitMix64 rng(seed);
    size_t done = 0;
    for (int e = 0; e < epochs; e++) {
        if (e > 0 && shuffle) shuffle_order(order, rng);
        for (size_t i : order) {
            learn_row(i);
            if ((++done & 1023) == 0) every_so_often();
        }
    }
}

}  // namespace pg_learn::core
