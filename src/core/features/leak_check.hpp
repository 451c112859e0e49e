// Label leakage: the features that equal the label on every training example, found while learning.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/features/observation.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pg_learn::core {

// A feature that equals the label on every example is almost always the label itself left among
// the features (ml_fit(spec, t, t.y) with t holding y): the model learns to copy it, scores
// perfectly in training and is useless in use. Equal means: a numeric feature (a boolean is 0/1)
// whose value is a numeric or boolean label's number, or a categorical feature whose value is a
// text label's text. Missing is never equal.
//
// Cheap by construction: the first example names the candidates (the features equal to its
// label), each later example can only remove some, and once none is left (after a few examples on
// ordinary data) observe() returns at once, doing nothing per example.
class LeakCheck {
public:
    // Fewer examples than this prove nothing (a boolean feature matches a binary label on n
    // random examples with probability 2^-n), and neither does a label that never changes (a
    // constant label equals every constant feature of its value).
    static constexpr uint64_t kMinExamples = 10;

    void observe(const Observation& x, const Label& y) {
        if (settled()) return;
        observe_named(x, y);
    }
    // A float8[] example: element i is the feature "x<i+1>" (as the models name it).
    void observe_dense(const double* x, size_t n, const Label& y) {
        if (settled()) return;
        observe_array(x, n, y);
    }
    // No feature can be the label any more: nothing is left to check.
    bool settled() const { return started_ && alive_ == 0; }
    // The examples observed until the check settled (every one while a candidate is left).
    uint64_t examples() const { return examples_; }
    // Ends the check: nothing more to observe or to report (the caller reported what it found).
    void stop() {
        started_ = true;
        alive_ = 0;
        candidates_.clear();
    }
    // Combines the checks of two parts of the same data (partial aggregates): a feature leaks
    // when it equals the label on every example of both.
    void merge(const LeakCheck& other);
    // The features equal to the label on every example, in their order in the first example;
    // empty below kMinExamples examples or when the label never changed.
    std::vector<std::string> leaking() const;

private:
    struct Candidate {
        std::string name;  // the feature's key: a column or jsonb key, or x<i> for an array
        bool category;     // compared by its categorical value, else by its number
        bool alive;
        uint32_t position;  // where the feature was in the last example (rows keep their order)
    };

    void observe_named(const Observation& x, const Label& y);
    void observe_array(const double* x, size_t n, const Label& y);
    void start(const Label& y, bool dense);
    void note_label(const Label& y);
    bool matches(const Observation& x, const Label& y, Candidate& c) const;
    void drop(Candidate& c);

    bool started_ = false;
    bool dense_ = false;
    bool label_varies_ = false;
    uint64_t examples_ = 0;
    size_t alive_ = 0;
    std::vector<Candidate> candidates_;
    // The first example's label, to tell whether the label ever changed.
    Label::Type first_type_ = Label::Type::Number;
    double first_number_ = 0;
    std::string first_text_;
};

}  // namespace pg_learn::core
