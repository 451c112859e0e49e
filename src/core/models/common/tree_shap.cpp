// Issue 16: path-dependent TreeSHAP of one tree (core/models/common/tree_shap.hpp).
#include "core/models/common/tree_shap.hpp"

#include <algorithm>

namespace pg_learn::core {

namespace {

struct PathElement {
    int64_t feature;
    double zero_fraction, one_fraction, pweight;
};

void extend_path(PathElement* p, size_t d, double zero_fraction, double one_fraction, int64_t feature) {
    p[d] = {feature, zero_fraction, one_fraction, d == 0 ? 1.0 : 0.0};
    for (size_t i = d; i-- > 0;) {
        p[i + 1].pweight += one_fraction * p[i].pweight * static_cast<double>(i + 1) / static_cast<double>(d + 1);
        p[i].pweight = zero_fraction * p[i].pweight * static_cast<double>(d - i) / static_cast<double>(d + 1);
    }
}

void unwind_path(PathElement* p, size_t d, size_t path_index) {
    const double one = p[path_index].one_fraction, zero = p[path_index].zero_fraction;
    double next = p[d].pweight;
    for (size_t i = d; i-- > 0;) {
        if (one != 0) {
            const double tmp = p[i].pweight;
            p[i].pweight = next * static_cast<double>(d + 1) / (static_cast<double>(i + 1) * one);
            next = tmp - p[i].pweight * zero * static_cast<double>(d - i) / static_cast<double>(d + 1);
        } else {
            p[i].pweight = p[i].pweight * static_cast<double>(d + 1) / (zero * static_cast<double>(d - i));
        }
    }
    for (size_t i = path_index; i < d; i++) {
        p[i].feature = p[i + 1].feature;
        p[i].zero_fraction = p[i + 1].zero_fraction;
        p[i].one_fraction = p[i + 1].one_fraction;
    }
}

double unwound_path_sum(const PathElement* p, size_t d, size_t path_index) {
    const double one = p[path_index].one_fraction, zero = p[path_index].zero_fraction;
    double next = p[d].pweight, total = 0;
    for (size_t i = d; i-- > 0;) {
        if (one != 0) {
            const double tmp = next * static_cast<double>(d + 1) / (static_cast<double>(i + 1) * one);
            total += tmp;
            next = p[i].pweight - tmp * zero * static_cast<double>(d - i) / static_cast<double>(d + 1);
        } else if (zero != 0) {
            total += p[i].pweight / zero / (static_cast<double>(d - i) / static_cast<double>(d + 1));
        }
    }
    return total;
}

struct Walker {
    const ShapTree& t;
    double* phi;
    PathElement* paths;
    std::vector<double> sub;  // each node's subtree weight: its leaves' covers summed

    double fill(int32_t node) {
        const double w = t.left[node] < 0 ? t.cover[node] : fill(t.left[node]) + fill(t.right[node]);
        return sub[node] = w;
    }
    // The share of a node's weight that goes to its child c (half each when none reached it).
    double share(int32_t node, int32_t c) const {
        const double w = sub[t.left[node]] + sub[t.right[node]];
        return w > 0 ? sub[c] / w : 0.5;
    }

    void recurse(int32_t node, size_t depth, PathElement* parent, double zero_fraction, double one_fraction,
                 int64_t feature) {
        PathElement* path = parent + depth + 1;
        std::copy(parent, parent + depth + 1, path);
        extend_path(path, depth, zero_fraction, one_fraction, feature);
        if (t.left[node] < 0) {
            const double* v = t.value.data() + size_t(node) * t.outputs;
            for (size_t i = 1; i <= depth; i++) {
                const double w = unwound_path_sum(path, depth, i);
                const PathElement& el = path[i];
                const double s = w * (el.one_fraction - el.zero_fraction);
                double* out = phi + size_t(el.feature) * t.outputs;
                for (size_t o = 0; o < t.outputs; o++) out[o] += s * v[o];
            }
            return;
        }
        const int64_t split = t.feature[node];
        const int32_t hot = t.hot[node];
        const int32_t cold = hot == t.left[node] ? t.right[node] : t.left[node];
        const double hot_zero = share(node, hot), cold_zero = share(node, cold);
        double incoming_zero = 1, incoming_one = 1;
        size_t k = 0;
        for (; k <= depth; k++)
            if (path[k].feature == split) break;
        if (k != depth + 1) {
            incoming_zero = path[k].zero_fraction;
            incoming_one = path[k].one_fraction;
            unwind_path(path, depth, k);
            depth -= 1;
        }
        recurse(hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, split);
        recurse(cold, depth + 1, path, cold_zero * incoming_zero, 0, split);
    }

    // The expected value: each leaf's values times the share of the weight reaching it.
    void expected(int32_t node, double weight, double* base) const {
        if (t.left[node] < 0) {
            const double* v = t.value.data() + size_t(node) * t.outputs;
            for (size_t o = 0; o < t.outputs; o++) base[o] += weight * v[o];
            return;
        }
        expected(t.left[node], weight * share(node, t.left[node]), base);
        expected(t.right[node], weight * share(node, t.right[node]), base);
    }
};

size_t depth_of(const ShapTree& t, int32_t node) {
    if (t.left[node] < 0) return 0;
    return 1 + std::max(depth_of(t, t.left[node]), depth_of(t, t.right[node]));
}

}  // namespace

void tree_shap(const ShapTree& t, double* phi, double* base) {
    if (t.left.empty()) return;
    const size_t maxd = depth_of(t, 0) + 2;
    static std::vector<PathElement> paths;  // scratch (a backend runs one explanation at a time)
    paths.resize(maxd * (maxd + 1) / 2 + maxd);
    Walker w{t, phi, paths.data(), std::vector<double>(t.left.size(), 0.0)};
    w.fill(0);
    std::vector<double> e(t.outputs, 0.0);
    w.expected(0, 1.0, e.data());
    for (size_t o = 0; o < t.outputs; o++) base[o] += e[o];
    w.recurse(0, 0, w.paths, 1, 1, -1);
}

}  // namespace pg_learn::core
