// Multiclass classification metrics over text class labels: a mergeable, invertible confusion
// matrix with an exact log-loss sum (SQL type ml_class_metric_state), as scikit-learn 1.2 defines them.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/metrics/metrics.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pg_learn::core {

// How per-class scores become one number (sklearn's `average`). None: a state that carries no
// choice of its own (only the ml_f1(actual, predicted, average) aggregate stores one).
enum class Average : uint8_t { None = 0, Macro = 1, Micro = 2, Weighted = 3 };
// "macro", "micro" or "weighted"; InvalidParameter naming the choices otherwise.
Average parse_average(std::string_view s);
const char* average_name(Average a);

// Distinct classes a state may hold (live ones: with a row as actual or as predicted class).
constexpr size_t kMaxMetricClasses = 10000;

// One entry of a probability object {"class": p, ...}: p is set for a JSON number; type_name
// names any other JSON type for the error message.
struct ProbaEntry {
    std::string_view cls;
    std::optional<double> p;
    const char* type_name = "number";
};

// The predicted class of a probability object (highest p; ties: the first class in byte
// order, as numpy's argmax over sorted class columns) and the probability of `actual` (0 when
// absent). Validates: at least one class, no empty class, every p a number in [0, 1].
struct ProbaPick {
    std::string_view predicted;
    double p_actual;
};
ProbaPick pick_proba(std::string_view actual, const std::vector<ProbaEntry>& proba);

struct ClassCell {
    std::string actual, predicted;
    uint64_t n;
};

struct ClassScores {
    std::string cls;
    double precision, recall, f1;
    uint64_t support;
};

class ClassMetricState {
public:
    // with_proba: rows come with probabilities (log loss kept); average: see Average.
    explicit ClassMetricState(bool with_proba = false, Average average = Average::None);

    bool with_proba() const { return with_proba_; }
    Average average() const { return average_; }
    uint64_t count() const { return rows_; }
    size_t class_count() const { return ids_.size(); }

    // A row of (actual, predicted) classes; classes must be non-empty UTF-8.
    void add(std::string_view actual, std::string_view predicted) { change(actual, predicted, nullptr, false); }
    // Removes a row added before (moving windows); InvalidParameter if the state does not hold it.
    void remove(std::string_view actual, std::string_view predicted) { change(actual, predicted, nullptr, true); }
    // A row of (actual, probabilities): the predicted class and the log-loss term come from them.
    void add_proba(std::string_view actual, const std::vector<ProbaEntry>& proba) { change_proba(actual, proba, false); }
    void remove_proba(std::string_view actual, const std::vector<ProbaEntry>& proba) {
        change_proba(actual, proba, true);
    }
    // Probability mode and stored average must agree; InvalidParameter otherwise.
    void merge(const ClassMetricState& o);

    // Metrics, nullopt without rows (logloss also without probabilities). Labels are the union
    // of actual and predicted classes, as sklearn's unique_labels; a zero division gives 0.0
    // (sklearn's default zero_division="warn").
    std::optional<double> accuracy() const;
    std::optional<double> logloss() const;
    std::optional<double> precision(Average a) const;
    std::optional<double> recall(Average a) const;
    std::optional<double> f1(Average a) const;
    // Non-zero cells, ordered by actual then predicted class (byte order of the names).
    std::vector<ClassCell> confusion_matrix() const;
    // Per class in byte order: sklearn's precision_recall_fscore_support(average=None).
    std::vector<ClassScores> report() const;

    // Binary form: magic "PLCS", version, flags and a reserved byte (0), payload length, XXH64
    // checksum of the payload; the payload: probabilities (0/1), average, rows, classes (byte
    // order), non-zero cells (sorted) and the exact log-loss sum. decode validates every field.
    size_t encoded_size() const;
    void encode(uint8_t* out, size_t n) const;
    static ClassMetricState decode(const uint8_t* p, size_t n);
    // Text form: JSON {"version": 1, "proba": ..., "count": ..., "classes": [...],
    // "cells": [[actual index, predicted index, n], ...], "logloss_sum": hex float[, "average"]}.
    std::string to_text() const;
    static ClassMetricState from_text(const char* p, size_t n);

    bool operator==(const ClassMetricState& o) const;

private:
    struct Sorted {
        std::vector<uint32_t> ids;  // live class ids in byte order of their names
    };
    Sorted sorted() const;
    void change(std::string_view actual, std::string_view predicted, const double* logloss_term, bool remove);
    void change_proba(std::string_view actual, const std::vector<ProbaEntry>& proba, bool remove);
    uint32_t id_of(std::string_view cls);  // an existing or new id (the caller checked the limit)
    void release_if_dead(uint32_t id);
    void add_cell(uint32_t a, uint32_t p, uint64_t n);
    struct PerClass {
        std::vector<double> precision, recall, f1;
        std::vector<uint64_t> support;
    };
    PerClass per_class(const Sorted& s) const;
    std::optional<double> averaged(Average a, int which) const;
    template <typename Bad>
    void validate(Bad&& bad) const;

    bool with_proba_;
    Average average_;
    uint64_t rows_ = 0;
    ExactSum logloss_sum_;  // of -log(clip(p of the actual class))
    std::unordered_map<std::string, uint32_t> ids_;  // live classes
    std::vector<std::string> names_;                  // by id; "" for a free id
    std::vector<uint64_t> support_, predicted_, correct_;  // by id: true_sum, pred_sum, tp
    std::vector<uint32_t> free_;
    std::unordered_map<uint64_t, uint64_t> cells_;  // (actual id << 32 | predicted id) -> rows
};

}  // namespace pg_learn::core
