// Multiclass metric state: every metric against scikit-learn (class_metrics_ref.py), probabilities,
// inverse transitions, merges, both serialized forms and corrupted input.
#include "core/metrics/class_metrics.hpp"

#include "core/common/xxhash.hpp"
#include "test_util.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::Average;
using core::ClassMetricState;
using core::ProbaEntry;
using nlohmann::json;

constexpr double kTol = 1e-12;

const json& reference() {
    static json j = read_reference("expected_class_metrics.json");
    return j;
}

::testing::AssertionResult close(std::optional<double> got, const json& want, const std::string& what,
                                 double tol = kTol) {
    if (want.is_null()) {
        if (!got) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << what << ": got " << *got << ", reference null";
    }
    if (!got) return ::testing::AssertionFailure() << what << ": got undefined, reference " << want;
    const double w = want.get<double>();
    if (*got == w || std::fabs(*got - w) <= tol * std::max(1.0, std::fabs(w))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << *got << ", reference " << w;
}

std::vector<ProbaEntry> proba_of(const json& row) {
    std::vector<ProbaEntry> v;
    for (auto it = row.begin(); it != row.end(); ++it)
        v.push_back({std::string_view(it.key()), it.value().get<double>(), "number"});
    return v;
}

ClassMetricState state_of(const json& c, bool with_proba, size_t from = 0, size_t to = SIZE_MAX) {
    ClassMetricState s(with_proba);
    to = std::min(to, c["actual"].size());
    for (size_t i = from; i < to; i++) {
        const std::string& a = c["actual"][i].get_ref<const std::string&>();
        if (with_proba) s.add_proba(a, proba_of(c["proba"][i]));
        else s.add(a, c["predicted"][i].get_ref<const std::string&>());
    }
    return s;
}

std::vector<uint8_t> bytes_of(const ClassMetricState& s) {
    std::vector<uint8_t> b(s.encoded_size());
    s.encode(b.data(), b.size());
    return b;
}

void expect_matches(const ClassMetricState& s, const json& c, bool with_proba) {
    const std::string name = c["name"];
    EXPECT_EQ(s.count(), c["actual"].size()) << name;
    EXPECT_TRUE(close(s.accuracy(), c["accuracy"], name + " accuracy"));
    if (with_proba) EXPECT_TRUE(close(s.logloss(), c["logloss"], name + " logloss", 1e-12));
    else EXPECT_FALSE(s.logloss()) << name;
    for (const char* avg : {"macro", "micro", "weighted"}) {
        const Average a = core::parse_average(avg);
        const json& w = c[avg];
        EXPECT_TRUE(close(s.precision(a), w["precision"], name + " precision " + avg));
        EXPECT_TRUE(close(s.recall(a), w["recall"], name + " recall " + avg));
        EXPECT_TRUE(close(s.f1(a), w["f1"], name + " f1 " + avg));
    }
    const auto rep = s.report();
    ASSERT_EQ(rep.size(), c["report"].size()) << name;
    for (size_t i = 0; i < rep.size(); i++) {
        const json& w = c["report"][i];
        EXPECT_EQ(rep[i].cls, w["class"].get<std::string>()) << name;
        EXPECT_TRUE(close(rep[i].precision, w["precision"], name + " precision of " + rep[i].cls));
        EXPECT_TRUE(close(rep[i].recall, w["recall"], name + " recall of " + rep[i].cls));
        EXPECT_TRUE(close(rep[i].f1, w["f1"], name + " f1 of " + rep[i].cls));
        EXPECT_EQ(rep[i].support, w["support"].get<uint64_t>()) << name << " " << rep[i].cls;
    }
    const auto cm = s.confusion_matrix();
    ASSERT_EQ(cm.size(), c["confusion"].size()) << name;
    for (size_t i = 0; i < cm.size(); i++) {
        const json& w = c["confusion"][i];
        EXPECT_EQ(cm[i].actual, w[0].get<std::string>()) << name << " cell " << i;
        EXPECT_EQ(cm[i].predicted, w[1].get<std::string>()) << name << " cell " << i;
        EXPECT_EQ(cm[i].n, w[2].get<uint64_t>()) << name << " cell " << i;
    }
}

TEST(ClassMetrics, MatchScikitLearn) {
    ASSERT_GE(reference()["cases"].size(), 3u);
    for (const auto& c : reference()["cases"]) {
        // The reference's predicted classes are the argmax rule of pick_proba.
        for (size_t i = 0; i < c["actual"].size(); i++)
            ASSERT_EQ(std::string(core::pick_proba(c["actual"][i].get<std::string>(), proba_of(c["proba"][i])).predicted),
                      c["predicted"][i].get<std::string>())
                << c["name"] << " row " << i;
        expect_matches(state_of(c, true), c, true);
        expect_matches(state_of(c, false), c, false);
    }
}

TEST(ClassMetrics, SyntheticCaseHasUnpredictedAndUnseenClasses) {
    const json& c = reference()["cases"][0];
    ASSERT_EQ(c["name"], "synthetic");
    ClassMetricState s = state_of(c, true);
    bool fish = false, eel = false;
    for (const auto& r : s.report()) {
        if (r.cls == "fish") fish = r.precision == 0 && r.recall == 0 && r.support > 0;  // never predicted
        if (r.cls == "eel") eel = r.recall == 0 && r.support == 0;                       // never actual
    }
    EXPECT_TRUE(fish);
    EXPECT_TRUE(eel);
}

TEST(ClassMetrics, MergeEqualsSerialAndFormsRoundTrip) {
    for (const auto& c : reference()["cases"]) {
        for (bool proba : {true, false}) {
            const ClassMetricState whole = state_of(c, proba);
            const size_t n = c["actual"].size();
            for (size_t cut : {size_t(0), size_t(1), n / 3, n / 2, n}) {
                ClassMetricState a = state_of(c, proba, 0, cut), b = state_of(c, proba, cut);
                ClassMetricState ab = a, ba = b;
                ab.merge(b);
                ba.merge(a);
                EXPECT_TRUE(ab == whole) << c["name"] << " cut " << cut;
                EXPECT_TRUE(ba == whole) << c["name"] << " cut " << cut;
                EXPECT_EQ(bytes_of(ab), bytes_of(whole)) << c["name"] << " cut " << cut;
                EXPECT_EQ(ab.to_text(), whole.to_text());
                EXPECT_EQ(bits(*ab.f1(Average::Macro)), bits(*whole.f1(Average::Macro)));
                if (proba) {
                EXPECT_EQ(bits(*ab.logloss()), bits(*whole.logloss()));
            }
            }
            // encode -> decode -> encode: the same bytes; text -> state -> text: the same text.
            const std::vector<uint8_t> b1 = bytes_of(whole);
            const ClassMetricState d = ClassMetricState::decode(b1.data(), b1.size());
            EXPECT_TRUE(d == whole);
            EXPECT_EQ(bytes_of(d), b1);
            const std::string t = whole.to_text();
            const ClassMetricState dt = ClassMetricState::from_text(t.data(), t.size());
            EXPECT_TRUE(dt == whole);
            EXPECT_EQ(dt.to_text(), t);
            EXPECT_EQ(bytes_of(dt), b1);
            expect_matches(d, c, proba);
        }
    }
}

TEST(ClassMetrics, RemoveRestoresEveryWindowExactly) {
    const json& c = reference()["cases"][0];
    const size_t n = c["actual"].size(), w = 37;
    for (bool proba : {true, false}) {
        ClassMetricState s(proba);
        for (size_t i = 0; i < n; i++) {
            const std::string& a = c["actual"][i].get_ref<const std::string&>();
            if (proba) s.add_proba(a, proba_of(c["proba"][i]));
            else s.add(a, c["predicted"][i].get_ref<const std::string&>());
            if (i >= w) {
                const std::string& ra = c["actual"][i - w].get_ref<const std::string&>();
                if (proba) s.remove_proba(ra, proba_of(c["proba"][i - w]));
                else s.remove(ra, c["predicted"][i - w].get_ref<const std::string&>());
            }
            if (i % 13 == 0 || i + 1 == n) {
                const ClassMetricState frame = state_of(c, proba, i >= w ? i - w + 1 : 0, i + 1);
                ASSERT_TRUE(s == frame) << "frame ending at " << i;
                ASSERT_EQ(bytes_of(s), bytes_of(frame)) << "frame ending at " << i;
                ASSERT_EQ(s.class_count(), frame.class_count());
            }
        }
        // Everything removed: an empty state, every metric undefined.
        for (size_t i = n - w; i < n; i++) {
            const std::string& a = c["actual"][i].get_ref<const std::string&>();
            if (proba) s.remove_proba(a, proba_of(c["proba"][i]));
            else s.remove(a, c["predicted"][i].get_ref<const std::string&>());
        }
        EXPECT_TRUE(s == ClassMetricState(proba));
        EXPECT_FALSE(s.accuracy());
        EXPECT_FALSE(s.f1(Average::Weighted));
        EXPECT_FALSE(s.logloss());
        EXPECT_TRUE(s.confusion_matrix().empty());
        EXPECT_TRUE(s.report().empty());
        expect_error(ErrorKind::InvalidParameter, [&] { s.remove("a", "b"); });
    }
}

TEST(ClassMetrics, ProbabilitiesPickAndClip) {
    auto pick = [](const char* actual, std::vector<std::pair<const char*, double>> kv) {
        std::vector<ProbaEntry> v;
        for (const auto& [k, p] : kv) v.push_back({k, p, "number"});
        return core::pick_proba(actual, v);
    };
    // Ties go to the first class in byte order, whatever the order given.
    EXPECT_EQ(pick("a", {{"dog", 0.4}, {"cat", 0.4}, {"bird", 0.2}}).predicted, "cat");
    EXPECT_EQ(pick("a", {{"b", 0.5}, {"B", 0.5}}).predicted, "B");
    EXPECT_EQ(pick("a", {{"z", 0.0}}).predicted, "z");
    EXPECT_EQ(pick("cat", {{"cat", 0.25}, {"dog", 0.75}}).p_actual, 0.25);
    EXPECT_EQ(pick("eel", {{"cat", 0.25}, {"dog", 0.75}}).p_actual, 0.0);
    // A missing class has p = 0, clipped to 2^-52: -log(2^-52) = 52 log 2.
    ClassMetricState s(true);
    s.add_proba("eel", {{"cat", 1.0, "number"}});
    EXPECT_DOUBLE_EQ(*s.logloss(), 52 * std::log(2.0));
    s.add_proba("cat", {{"cat", 1.0, "number"}});
    EXPECT_NEAR(*s.logloss(), 26 * std::log(2.0), 1e-12);
    EXPECT_EQ(*s.accuracy(), 0.5);
}

TEST(ClassMetrics, BadInputs) {
    ClassMetricState s, sp(true);
    auto m = expect_error(ErrorKind::InvalidParameter, [&] { s.add("", "a"); });
    EXPECT_EQ(m, "class must not be empty");
    expect_error(ErrorKind::InvalidParameter, [&] { s.add("a", ""); });
    expect_error(ErrorKind::InvalidText, [&] { s.add("a\xff", "a"); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.add_proba("a", {{"a", 0.5, "number"}}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("a", {}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("a", {{"a", std::nullopt, "string"}}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("a", {{"a", -0.1, "number"}}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("a", {{"a", 1.5, "number"}}); });
    expect_error(ErrorKind::NumericRange, [&] { sp.add_proba("a", {{"a", std::nan(""), "number"}}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("", {{"a", 0.5, "number"}}); });
    expect_error(ErrorKind::InvalidParameter, [&] { sp.add_proba("a", {{"", 0.5, "number"}}); });
    EXPECT_EQ(s.count(), 0u);
    EXPECT_EQ(sp.count(), 0u);
    expect_error(ErrorKind::InvalidParameter, [&] { core::parse_average("samples"); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.merge(sp); });
    ClassMetricState avg(false, Average::Micro);
    expect_error(ErrorKind::InvalidParameter, [&] { s.merge(avg); });
}

TEST(ClassMetrics, ClassLimit) {
    ClassMetricState s;
    for (size_t i = 0; i < core::kMaxMetricClasses; i++) s.add("c" + std::to_string(i), "c" + std::to_string(i));
    EXPECT_EQ(s.class_count(), core::kMaxMetricClasses);
    s.add("c1", "c2");  // known classes: fine
    expect_error(ErrorKind::ProgramLimit, [&] { s.add("new", "c1"); });
    expect_error(ErrorKind::ProgramLimit, [&] { s.add("c1", "new"); });
    EXPECT_EQ(s.class_count(), core::kMaxMetricClasses);
    EXPECT_EQ(s.count(), core::kMaxMetricClasses + 1);
    // Removing a class's last row frees its place.
    s.remove("c7", "c7");
    s.add("new", "c1");
    EXPECT_EQ(s.class_count(), core::kMaxMetricClasses);
    const auto b = bytes_of(s);
    EXPECT_TRUE(ClassMetricState::decode(b.data(), b.size()) == s);
}

// ---- forms ---------------------------------------------------------------------------------------

ClassMetricState small_state() {
    ClassMetricState s(true);
    s.add_proba("cat", {{"cat", 0.7, "number"}, {"dog", 0.3, "number"}});
    s.add_proba("dog", {{"cat", 0.6, "number"}, {"dog", 0.4, "number"}});
    s.add_proba("bird", {{"dog", 1.0, "number"}});
    return s;
}

TEST(ClassMetricForms, EveryTruncationAndByteFlipIsRejected) {
    for (const ClassMetricState& s : {small_state(), state_of(reference()["cases"][1], false)}) {
        const std::vector<uint8_t> b = bytes_of(s);
        for (size_t n = 0; n < b.size(); n++)
            expect_error(ErrorKind::InvalidBinary, [&] { ClassMetricState::decode(b.data(), n); });
        for (size_t i = 0; i < b.size(); i++)
            for (int bit = 0; bit < 8; bit++) {
                std::vector<uint8_t> c = b;
                c[i] ^= uint8_t(1 << bit);
                expect_error(ErrorKind::InvalidBinary, [&] { ClassMetricState::decode(c.data(), c.size()); });
            }
        std::vector<uint8_t> longer = b;
        longer.push_back(0);
        expect_error(ErrorKind::InvalidBinary, [&] { ClassMetricState::decode(longer.data(), longer.size()); });
    }
}

// Re-seals a payload with a valid checksum, so the content checks themselves are exercised.
std::vector<uint8_t> reseal(std::vector<uint8_t> b) {
    const uint64_t len = b.size() - 24, sum = core::xxh64(b.data() + 24, len);
    std::memcpy(b.data() + 8, &len, 8);
    std::memcpy(b.data() + 16, &sum, 8);
    return b;
}

TEST(ClassMetricForms, ConsistentChecksumButInconsistentContent) {
    const std::vector<uint8_t> b = bytes_of(small_state());
    // Layout: header 24, mode 1, average 1, rows 8, nclasses 4, ncells 4, names (4 + len each),
    // cells 16 each, sum.
    auto rejects = [](std::vector<uint8_t> c, const char* what) {
        const std::string m =
            expect_error(ErrorKind::InvalidBinary, [&] { ClassMetricState::decode(c.data(), c.size()); });
        EXPECT_NE(m.find(what), std::string::npos) << m;
    };
    {
        std::vector<uint8_t> c = b;
        c[4] = 2;  // version 2
        rejects(reseal(c), "newer than this pg_learn reads");
    }
    {
        std::vector<uint8_t> c = b;
        c[26] ^= 1;  // rows
        rejects(reseal(c), "row count does not match");
    }
    {
        std::vector<uint8_t> c = b;
        // Names are "bird", "cat", "dog": the second becomes "aat", below "bird".
        const size_t second = 24 + 2 + 16 + 4 + 4 + 4;
        c[second] = 'a';
        rejects(reseal(c), "not strictly ascending");
    }
    {
        std::vector<uint8_t> c = b;
        c[24] = 0;  // no probabilities, but a log-loss sum
        rejects(reseal(c), "log-loss sum without probabilities");
    }
    {
        std::vector<uint8_t> c = b;
        c[25] = 9;  // unknown average
        rejects(reseal(c), "unknown average");
    }
}

TEST(ClassMetricForms, TextIsValidated) {
    const ClassMetricState s = small_state();
    const std::string t = s.to_text();
    EXPECT_EQ(json::parse(t)["classes"], json::parse(R"(["bird","cat","dog"])"));
    auto bad = [](ErrorKind k, const std::string& text) {
        return expect_error(k, [&] { ClassMetricState::from_text(text.data(), text.size()); });
    };
    bad(ErrorKind::InvalidText, "nonsense");
    bad(ErrorKind::InvalidText, "[]");
    bad(ErrorKind::InvalidText, R"({"version":1,"proba":false,"count":0,"classes":[],"cells":[]})");
    EXPECT_NE(bad(ErrorKind::InvalidText,
                  R"({"version":2,"proba":false,"count":0,"classes":[],"cells":[],"logloss_sum":"0"})")
                  .find("newer"),
              std::string::npos);
    bad(ErrorKind::InvalidText, R"({"version":1,"proba":false,"count":0,"classes":[],"cells":[],"logloss_sum":"0","x":1})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":1,"classes":["b","a"],"cells":[[0,1,1]],"logloss_sum":"0"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":2,"classes":["a","b"],"cells":[[0,1,1]],"logloss_sum":"0"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":1,"classes":["a","b","c"],"cells":[[0,1,1]],"logloss_sum":"0"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":1,"classes":["a",""],"cells":[[0,1,1]],"logloss_sum":"0"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":true,"count":1,"classes":["a"],"cells":[[0,0,1]],"logloss_sum":"0x1p99"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":1,"classes":["a"],"cells":[[0,0,1]],"logloss_sum":"0x1p0"})");
    bad(ErrorKind::InvalidParameter,
        R"({"version":1,"proba":false,"count":1,"classes":["a"],"cells":[[0,0,1]],"logloss_sum":"0","average":"samples"})");
    const std::string ok =
        R"({"version":1,"proba":false,"count":3,"classes":["a","b"],"cells":[[0,0,2],[1,0,1]],"logloss_sum":"0","average":"micro"})";
    const ClassMetricState o = ClassMetricState::from_text(ok.data(), ok.size());
    EXPECT_EQ(o.average(), Average::Micro);
    EXPECT_EQ(*o.accuracy(), 2.0 / 3);
    EXPECT_EQ(json::parse(o.to_text()), json::parse(ok));
}

}  // namespace
}  // namespace pg_learn::test
