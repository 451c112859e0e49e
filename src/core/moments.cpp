// Welford updates and Chan merges for Moments.
#include "moments.hpp"

#include <algorithm>
#include <cmath>

namespace pg_learn::core {

void Moments::add(double x) {
    if (std::isnan(x)) {
        nans++;
        return;
    }
    if (std::isinf(x)) {
        (x > 0 ? pos_infs : neg_infs)++;
        return;
    }
    if (x == 0.0) zeros++;
    count++;
    double d = x - mean;
    mean += d / static_cast<double>(count);
    m2 += d * (x - mean);
    min = std::min(min, x);
    max = std::max(max, x);
}

void Moments::merge(const Moments& o) {
    nulls += o.nulls;
    nans += o.nans;
    pos_infs += o.pos_infs;
    neg_infs += o.neg_infs;
    zeros += o.zeros;
    if (o.count == 0) return;
    if (count == 0) {
        count = o.count;
        mean = o.mean;
        m2 = o.m2;
        min = o.min;
        max = o.max;
        return;
    }
    const double na = static_cast<double>(count), nb = static_cast<double>(o.count);
    const double n = na + nb;
    const double d = o.mean - mean;
    mean += d * (nb / n);  // never forms na * mean, which could overflow for huge values
    m2 += o.m2 + d * d * (na * nb / n);
    count += o.count;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
}

double Moments::variance_sample() const {
    if (count < 2) return std::nan("");
    return m2 / static_cast<double>(count - 1);
}

double Moments::stddev_sample() const { return std::sqrt(variance_sample()); }

}  // namespace pg_learn::core
