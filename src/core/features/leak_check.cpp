// The label-leak check (leak_check.hpp): candidates from the first example, removed at their first difference.
#include "core/features/leak_check.hpp"

#include <string_view>

namespace pg_learn::core {

namespace {

bool numeric_label(const Label& y) { return y.type != Label::Type::Text; }

std::string_view category_value(const Observation& x, const Observation::Entry& e) {
    return x.name(e).substr(e.key_length + 1);
}

}  // namespace

void LeakCheck::start(const Label& y, bool dense) {
    started_ = true;
    dense_ = dense;
    examples_ = 1;
    first_type_ = y.type;
    first_number_ = y.number;
    if (y.type == Label::Type::Text) first_text_.assign(y.text);
}

void LeakCheck::note_label(const Label& y) {
    if (label_varies_) return;
    if (y.type != first_type_) label_varies_ = true;
    else if (y.type == Label::Type::Text) label_varies_ = y.text != first_text_;
    else label_varies_ = y.number != first_number_;
}

void LeakCheck::drop(Candidate& c) {
    if (!c.alive) return;
    c.alive = false;
    alive_--;
}

bool LeakCheck::matches(const Observation& x, const Label& y, Candidate& c) const {
    // The feature where it was last time (a row's columns and a jsonb object's keys keep their
    // order from one example to the next), else wherever it is now.
    const Observation::Entry* e = nullptr;
    if (c.position < x.size() && x.key(x[c.position]) == c.name) {
        e = &x[c.position];
    } else {
        for (size_t i = 0; i < x.size(); i++)
            if (x.key(x[i]) == c.name) {
                e = &x[i];
                c.position = static_cast<uint32_t>(i);
                break;
            }
    }
    if (!e || e->missing) return false;
    if (c.category)
        return e->type == FeatureType::Categorical && y.type == Label::Type::Text && category_value(x, *e) == y.text;
    return e->type == FeatureType::Numeric && numeric_label(y) && e->value == y.number;
}

void LeakCheck::observe_named(const Observation& x, const Label& y) {
    if (!started_) {
        start(y, /*dense=*/false);
        for (size_t i = 0; i < x.size(); i++) {
            const Observation::Entry& e = x[i];
            if (e.missing) continue;
            const bool equal = e.type == FeatureType::Categorical
                                   ? y.type == Label::Type::Text && category_value(x, e) == y.text
                                   : numeric_label(y) && e.value == y.number;
            if (equal)
                candidates_.push_back({std::string(x.key(e)), e.type == FeatureType::Categorical, true,
                                       static_cast<uint32_t>(i)});
        }
        alive_ = candidates_.size();
        return;
    }
    examples_++;
    note_label(y);
    for (Candidate& c : candidates_)
        if (c.alive && (dense_ || !matches(x, y, c))) drop(c);
}

void LeakCheck::observe_array(const double* x, size_t n, const Label& y) {
    if (!started_) {
        start(y, /*dense=*/true);
        if (numeric_label(y))
            for (size_t i = 0; i < n; i++)
                if (x[i] == y.number)
                    candidates_.push_back({"x" + std::to_string(i + 1), false, true, static_cast<uint32_t>(i)});
        alive_ = candidates_.size();
        return;
    }
    examples_++;
    note_label(y);
    for (Candidate& c : candidates_)
        if (c.alive && (!dense_ || !numeric_label(y) || c.position >= n || x[c.position] != y.number)) drop(c);
}

void LeakCheck::merge(const LeakCheck& other) {
    if (!other.started_) return;
    if (!started_) {
        *this = other;
        return;
    }
    examples_ += other.examples_;
    if (!label_varies_) {
        label_varies_ = other.label_varies_ || other.first_type_ != first_type_ ||
                        (first_type_ == Label::Type::Text ? other.first_text_ != first_text_
                                                          : other.first_number_ != first_number_);
    }
    for (Candidate& c : candidates_) {
        if (!c.alive) continue;
        bool both = false;
        if (other.dense_ == dense_)
            for (const Candidate& o : other.candidates_)
                if (o.alive && o.category == c.category && o.name == c.name) {
                    both = true;
                    break;
                }
        if (!both) drop(c);
    }
}

std::vector<std::string> LeakCheck::leaking() const {
    std::vector<std::string> out;
    if (examples_ < kMinExamples || !label_varies_) return out;
    for (const Candidate& c : candidates_)
        if (c.alive) out.push_back(c.name);
    return out;
}

}  // namespace pg_learn::core
