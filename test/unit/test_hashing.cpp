// Feature hashing: MurmurHash3_x86_32 against published vectors, and hashed models' bounds.
#include "test_util.hpp"

#include <cmath>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::murmur3_32;
using core::Observation;

struct Vector {
    std::string data;
    uint32_t seed;
    uint32_t hash;
};

// SMHasher's MurmurHash3_x86_32; vectors as collected on Wikipedia's talk page and the
// widely cited StackOverflow list (checked independently with test/reference/reference.py).
TEST(Murmur3, KnownAnswers) {
    using namespace std::string_literals;
    const Vector v[] = {
        {"", 0, 0},
        {"", 1, 0x514E28B7},
        {"", 0xffffffff, 0x81F16F39},
        {"\0\0\0\0"s, 0, 0x2362F9DE},
        {"\0\0\0"s, 0, 0x85F0B427},
        {"\0\0"s, 0, 0x30F4C306},
        {"\0"s, 0, 0x514E28B7},
        {"\xff\xff\xff\xff", 0, 0x76293B50},
        {"\x21\x43\x65\x87", 0, 0xF55B516B},
        {"\x21\x43\x65\x87", 0x5082EDEE, 0x2362F9DE},
        {"\x21\x43\x65", 0, 0x7E4A8634},
        {"\x21\x43", 0, 0xA0F7B07A},
        {"\x21", 0, 0x72661CF4},
        {"aaaa", 0x9747b28c, 0x5A97808A},
        {"aaa", 0x9747b28c, 0x283E0130},
        {"aa", 0x9747b28c, 0x5D211726},
        {"a", 0x9747b28c, 0x7FA09EA6},
        {"abcd", 0x9747b28c, 0xF0478627},
        {"abc", 0x9747b28c, 0xC84A62DD},
        {"ab", 0x9747b28c, 0x74875592},
        {"Hello, world!", 0x9747b28c, 0x24884CBA},
        {"The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2FA826CD},
        {"The quick brown fox jumps over the lazy dog", 0, 0x2E4FF723},
        {"hello", 0, 0x248BFA47},
    };
    for (const auto& t : v)
        EXPECT_EQ(murmur3_32(t.data.data(), t.data.size(), t.seed), t.hash)
            << "len " << t.data.size() << " seed " << t.seed;
    EXPECT_EQ(murmur3_32(nullptr, 0, 0), 0u);
}

TEST(Murmur3, UnalignedInput) {
    // the same bytes at every alignment hash the same
    const std::string s = "The quick brown fox jumps over the lazy dog";
    std::string buf(s.size() + 8, '\0');
    for (size_t off = 0; off < 8; off++) {
        buf.replace(off, s.size(), s);
        EXPECT_EQ(murmur3_32(buf.data() + off, s.size(), 0), 0x2E4FF723u) << off;
    }
}

TEST(Hashed, WeightIndexIsMurmurModTwoToTheB) {
    // murmur3_32("hello") = 0x248bfa47: with 8 bits the index is 0x47 = 71
    LinearModel m = model_of(R"({"model":"linear_regression","hash_bits":8})");
    EXPECT_EQ(m.n_weights(), 256u);
    m.learn(num({{"hello", 1}}), 1);
    for (size_t i = 0; i < 256; i++) {
        if (i == 71) EXPECT_NE(m.weights()[i], 0.0);
        else EXPECT_EQ(m.weights()[i], 0.0) << i;
    }
    EXPECT_EQ(m.feature_names(), std::vector<std::string>{"hello"});
    // predicting a name that was never learned uses whatever its slot holds
    LinearModel f = model_of(R"({"model":"linear_regression","hash_bits":1})");
    EXPECT_EQ(f.n_weights(), 2u);
}

TEST(Hashed, ModelsStayBoundedAndRememberAtMost10000Names) {
    LinearModel m = model_of(R"({"model":"linear_regression","hash_bits":4})");
    Observation o;
    for (int i = 0; i < 10050; i++) {
        o.clear();
        o.add_numeric("f" + std::to_string(i), 1.0);
        m.learn(o, 1.0);
    }
    EXPECT_EQ(m.n_weights(), 16u);
    EXPECT_EQ(m.n_features(), core::kMaxRememberedNames);
    EXPECT_EQ(m.feature_names().front(), "f0");
    EXPECT_EQ(m.feature_names().back(), "f9999");
    auto buf = encode(m);
    LinearModel d = LinearModel::decode(buf.data(), buf.size());
    EXPECT_EQ(d.n_features(), core::kMaxRememberedNames);
    // a model without hashing grows one weight per name
    LinearModel u = model_of(R"({"model":"linear_regression"})");
    for (int i = 0; i < 100; i++) {
        o.clear();
        o.add_numeric("f" + std::to_string(i), 1.0);
        u.learn(o, 1.0);
    }
    EXPECT_EQ(u.n_weights(), 100u);
}

// f0 and f34 share slot 5 of 16, f1 and f11 slot 1 (murmur3 seed 0, from reference.py).
TEST(Hashed, CollidingNamesActAsOneFeatureTheirValuesAddUp) {
    for (const char* spec : {
             R"({"model":"linear_regression","hash_bits":4,"optimizer":"adagrad","l2":0.1})",
             R"({"model":"linear_regression","hash_bits":4,"optimizer":"adam","l1":0.01})",
             R"({"model":"logistic_regression","hash_bits":4,"optimizer":"ftrl"})",
             R"({"model":"linear_regression","hash_bits":4,"optimizer":{"sgd":{"lr":0.1}},"l2":0.5})"}) {
        LinearModel two = model_of(spec), one = model_of(spec);
        const bool cls = std::string(spec).find("logistic") != std::string::npos;
        for (int i = 0; i < 20; i++) {
            double a = 0.1 * i - 1, b = std::cos(i), y = cls ? (i % 3 == 0) : 2 * a + b;
            two.learn(num({{"f0", a}, {"f1", b}, {"f34", 2 * a}, {"f11", -b}}), y);
            one.learn(num({{"f0", 3 * a}, {"f1", 0.0}}), y);
        }
        EXPECT_NE(two.weights()[5], 0.0);
        for (size_t i = 0; i < 16; i++) EXPECT_DOUBLE_EQ(two.weights()[i], one.weights()[i]) << spec << " slot " << i;
        EXPECT_DOUBLE_EQ(two.intercept(), one.intercept());
        EXPECT_EQ(two.feature_names(), (std::vector<std::string>{"f0", "f1", "f34", "f11"}));
        auto j = two.info();
        EXPECT_EQ(j["weights"]["f0"].get<double>(), j["weights"]["f34"].get<double>());
        EXPECT_EQ(j["weights"]["f0"].get<double>(), two.weights()[5]);
    }
}

// docs/algorithms.md: two features that land on the same weight act as one. Without hashing
// that happens when one example names a feature twice, e.g. jsonb {"c": "x", "c=x": 1} or a row
// with two columns of the same name.
TEST(Unhashed, ANameGivenTwiceActsAsOneFeature) {
    for (const char* spec : {R"({"model":"linear_regression","optimizer":"adagrad"})",
                             R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.1}},"l2":0.5})",
                             R"({"model":"linear_regression","optimizer":"ftrl"})"}) {
        LinearModel twice = model_of(spec), once = model_of(spec);
        for (int i = 0; i < 10; i++) {
            Observation o;
            o.add_category("c", "x");
            o.add_numeric("c=x", 1.0);
            twice.learn(o, 1.0 + i);
            once.learn(num({{"c=x", 2.0}}), 1.0 + i);
        }
        EXPECT_EQ(twice.n_features(), 1u);
        EXPECT_DOUBLE_EQ(twice.weights()[0], once.weights()[0]) << spec;
    }
}

}  // namespace
}  // namespace pg_learn::test
