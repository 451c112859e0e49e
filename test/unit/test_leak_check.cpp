// The label-leak check: which features equal the label on every example, and its cost.
#include "test_util.hpp"

#include "core/features/leak_check.hpp"

#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using core::Label;
using core::LeakCheck;
using core::Observation;

using Names = std::vector<std::string>;

// The row (id, x, y, y_copy, flag) of a table whose label is y: y_copy repeats it, flag is y > 0
// as a boolean 0/1, x is unrelated.
Observation row(int i, double y, bool with_copy = true) {
    Observation o;
    o.add_numeric("id", i);
    o.add_numeric("x", (i * 7) % 5);
    o.add_numeric("y", y);
    if (with_copy) o.add_numeric("y_copy", y);
    return o;
}

TEST(LeakCheck, FindsTheLabelColumnAndItsCopies) {
    LeakCheck c;
    for (int i = 0; i < 20; i++) {
        const double y = (i % 3) * 1.5;
        c.observe(row(i, y), Label::of_number(y));
    }
    EXPECT_EQ(c.leaking(), (Names{"y", "y_copy"}));
    EXPECT_EQ(c.examples(), 20u);
    EXPECT_FALSE(c.settled());
}

TEST(LeakCheck, OneDifferenceClearsAFeature) {
    LeakCheck c;
    for (int i = 0; i < 20; i++) {
        const double y = i % 2;
        Observation o = row(i, y, /*with_copy=*/false);
        o.add_numeric("y_copy", i == 17 ? 1 - y : y);
        c.observe(o, Label::of_number(y));
    }
    EXPECT_EQ(c.leaking(), (Names{"y"}));
}

TEST(LeakCheck, NothingLeftToCheckMeansNothingDonePerExample) {
    LeakCheck c;
    Observation o;
    o.add_numeric("a", 5);
    c.observe(o, Label::of_number(1));  // no feature equals the first label: no candidate
    EXPECT_TRUE(c.settled());
    for (int i = 0; i < 100; i++) c.observe(o, Label::of_number(i));
    EXPECT_EQ(c.examples(), 1u);  // observe returned at once: not even counted
    EXPECT_TRUE(c.leaking().empty());

    LeakCheck d;  // candidates that all die settle the check too
    d.observe(row(0, 0), Label::of_number(0));  // id, x, y and y_copy are 0
    EXPECT_FALSE(d.settled());
    d.observe(row(1, 0), Label::of_number(5));
    EXPECT_TRUE(d.settled());
    d.observe(row(2, 5), Label::of_number(5));
    EXPECT_EQ(d.examples(), 2u);
}

TEST(LeakCheck, NeedsEnoughExamplesAndAVaryingLabel) {
    LeakCheck few;
    for (int i = 0; i < static_cast<int>(LeakCheck::kMinExamples) - 1; i++) few.observe(row(i, i % 2), Label::of_number(i % 2));
    EXPECT_TRUE(few.leaking().empty());
    few.observe(row(99, 1), Label::of_number(1));
    EXPECT_EQ(few.leaking(), (Names{"y", "y_copy"}));

    // A constant label equals every feature that is constant at its value: no warning.
    LeakCheck constant;
    for (int i = 0; i < 50; i++) {
        Observation o;
        o.add_numeric("zero", 0);
        o.add_numeric("i", i);
        constant.observe(o, Label::of_number(0));
    }
    EXPECT_TRUE(constant.leaking().empty());
}

TEST(LeakCheck, StopEndsTheCheck) {
    LeakCheck c;
    for (int i = 0; i < 12; i++) c.observe(row(i, i % 2), Label::of_number(i % 2));
    EXPECT_EQ(c.leaking(), (Names{"y", "y_copy"}));
    c.stop();  // reported
    EXPECT_TRUE(c.settled());
    EXPECT_TRUE(c.leaking().empty());
    for (int i = 0; i < 12; i++) c.observe(row(i, i % 2), Label::of_number(i % 2));
    EXPECT_TRUE(c.leaking().empty());  // never found again
}

TEST(LeakCheck, BooleansAreZeroAndOne) {
    LeakCheck c;
    for (int i = 0; i < 12; i++) {
        const bool b = i % 3 == 0;
        Observation o;
        o.add_numeric("churned", b ? 1.0 : 0.0);  // a boolean column
        o.add_numeric("other", b ? 0.0 : 1.0);
        c.observe(o, Label::of_boolean(b));
    }
    EXPECT_EQ(c.leaking(), (Names{"churned"}));
}

TEST(LeakCheck, TextLabelsMatchCategoricalValues) {
    LeakCheck c;
    const char* classes[] = {"cat", "dog", "bird"};
    for (int i = 0; i < 12; i++) {
        Observation o;
        o.add_category("species", classes[i % 3]);
        o.add_category("colour", classes[(i + 1) % 3]);
        o.add_numeric("n", 1);
        c.observe(o, Label::of_text(classes[i % 3]));
    }
    EXPECT_EQ(c.leaking(), (Names{"species"}));

    // A number never equals a text label, a category never a numeric one.
    LeakCheck mixed;
    for (int i = 0; i < 12; i++) {
        Observation o;
        o.add_category("k", std::to_string(i % 2));
        mixed.observe(o, Label::of_number(i % 2));
    }
    EXPECT_TRUE(mixed.settled());
}

TEST(LeakCheck, MissingIsNeverEqual) {
    LeakCheck c;
    for (int i = 0; i < 12; i++) {
        Observation o;
        if (i == 5) o.add_missing("y");
        else o.add_numeric("y", i % 2);
        c.observe(o, Label::of_number(i % 2));
    }
    EXPECT_TRUE(c.leaking().empty());
}

TEST(LeakCheck, FeaturesThatMoveAreFoundByName) {
    // jsonb objects may lack a key on some rows, which shifts the others.
    LeakCheck c;
    for (int i = 0; i < 12; i++) {
        Observation o;
        if (i % 2) o.add_numeric("a", 3);
        o.add_numeric("label", i % 4);
        o.add_numeric("z", -1);
        c.observe(o, Label::of_number(i % 4));
    }
    EXPECT_EQ(c.leaking(), (Names{"label"}));
}

TEST(LeakCheck, DenseArraysNameElementsByPosition) {
    LeakCheck c;
    for (int i = 0; i < 15; i++) {
        const double y = i * 0.25;
        const double x[3] = {1.0 * i, y, -y};
        c.observe_dense(x, 3, Label::of_number(y));
    }
    EXPECT_EQ(c.leaking(), (Names{"x2"}));
}

TEST(LeakCheck, MergeKeepsWhatLeaksInBothParts) {
    LeakCheck a, b;
    for (int i = 0; i < 6; i++) a.observe(row(i, i % 2), Label::of_number(i % 2));
    for (int i = 0; i < 6; i++) {
        Observation o = row(i, i % 2, /*with_copy=*/false);
        o.add_numeric("y_copy", i == 3 ? 7 : i % 2);
        b.observe(o, Label::of_number(i % 2));
    }
    EXPECT_TRUE(a.leaking().empty());  // 6 examples each: too few alone
    LeakCheck merged = a;
    merged.merge(b);
    EXPECT_EQ(merged.examples(), 12u);
    EXPECT_EQ(merged.leaking(), (Names{"y"}));

    // Each part with a constant label, the two constants different: the label varies.
    LeakCheck ones, zeros;
    for (int i = 0; i < 6; i++) ones.observe(row(i, 1), Label::of_number(1));
    for (int i = 0; i < 6; i++) zeros.observe(row(i, 0), Label::of_number(0));
    EXPECT_TRUE(ones.leaking().empty());
    ones.merge(zeros);
    EXPECT_EQ(ones.leaking(), (Names{"y", "y_copy"}));

    // An empty part changes nothing; merging into an empty check copies.
    LeakCheck empty, into;
    LeakCheck copy = merged;
    copy.merge(empty);
    EXPECT_EQ(copy.leaking(), merged.leaking());
    into.merge(merged);
    EXPECT_EQ(into.leaking(), merged.leaking());
}

}  // namespace
}  // namespace pg_learn::test
