// Profile (the ml_profile value): type counts, presence and statistics against a Python reference,
// hand-checked conflicts, merges against one pass, limits, the binary and text forms.
#include "core/common/byte_codec.hpp"
#include "core/stats/profile.hpp"
#include "test_util.hpp"
#include "core/common/xxhash.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <set>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::FeatureProfile;
using core::FeatureStats;
using core::Profile;
using core::StatsKind;
using core::ValueType;
using nlohmann::json;

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

const json& reference() {
    static const json j = read_reference("expected_profile.json", "test/reference/profile_ref.py");
    return j;
}

// One JSON object as one row, in the object's key order (bytes), as the jsonb glue feeds it.
void add_json_row(Profile& p, const json& row) {
    p.start_row();
    for (auto it = row.begin(); it != row.end(); ++it) {
        const json& v = *it;
        if (v.is_null()) p.add_null(it.key());
        else if (v.is_boolean()) p.add_boolean(it.key(), v.get<bool>());
        else if (v.is_number()) p.add_number(it.key(), v.get<double>());
        else if (v.is_string()) p.add_string(it.key(), v.get_ref<const std::string&>());
        else p.add_nested(it.key());
    }
}

Profile profile_of(const json& rows, size_t from = 0, size_t to = SIZE_MAX) {
    Profile p;
    for (size_t i = from; i < std::min(to, rows.size()); i++) add_json_row(p, rows[i]);
    return p;
}

::testing::AssertionResult rel(double got, double want, double tol, const std::string& what) {
    if (got == want || std::fabs(got - want) <= tol * std::fabs(want)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", want " << want;
}

const char* kTypeNames[] = {"numeric", "boolean", "categorical", "nested"};

// Everything but the sketches' bytes: exact counts, types, domains, and moments to rounding.
void expect_same_profile(const Profile& a, const Profile& b, double tol) {
    ASSERT_EQ(a.rows(), b.rows());
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, fa] : a.features()) {
        SCOPED_TRACE("feature \"" + name + "\"");
        const FeatureProfile* fb = b.find(name);
        ASSERT_NE(fb, nullptr);
        for (size_t t = 0; t < core::kValueTypes; t++) EXPECT_EQ(fa.type_count(ValueType(t)), fb->type_count(ValueType(t)));
        EXPECT_EQ(fa.null_count(), fb->null_count());
        EXPECT_EQ(fa.type(), fb->type());
        EXPECT_EQ(a.presence(fa), b.presence(*fb));
        ASSERT_EQ(fa.values(StatsKind::Numeric) != nullptr, fb->values(StatsKind::Numeric) != nullptr);
        if (const FeatureStats* sa = fa.values(StatsKind::Numeric)) {
            const FeatureStats* sb = fb->values(StatsKind::Numeric);
            EXPECT_EQ(sa->count(), sb->count());
            EXPECT_EQ(sa->zero_count(), sb->zero_count());
            EXPECT_EQ(sa->min(), sb->min());
            EXPECT_EQ(sa->max(), sb->max());
            EXPECT_TRUE(rel(*sa->mean(), *sb->mean(), tol, "mean"));
            if (sa->variance()) {
                EXPECT_TRUE(rel(*sa->variance(), *sb->variance(), 1e3 * tol, "variance"));
            }
        }
        if (fa.values(StatsKind::Categorical) && fa.domain_complete()) {
            EXPECT_EQ(fa.domain(), fb->domain());
            EXPECT_EQ(fa.values(StatsKind::Categorical)->distinct(), fb->values(StatsKind::Categorical)->distinct());
        }
    }
}

// ---- against the Python reference ------------------------------------------------------------

TEST(Profile, MatchesPythonReference) {
    const json& ref = reference();
    const json& rows = ref["rows"];
    const Profile p = profile_of(rows);
    EXPECT_EQ(p.rows(), rows.size());
    const json& want = ref["expected"];
    ASSERT_EQ(p.size(), want.size());
    for (auto it = want.begin(); it != want.end(); ++it) {
        const std::string& name = it.key();
        const json& w = *it;
        SCOPED_TRACE("feature \"" + name + "\"");
        const FeatureProfile* f = p.find(name);
        ASSERT_NE(f, nullptr);
        for (size_t t = 0; t < core::kValueTypes; t++)
            EXPECT_EQ(f->type_count(ValueType(t)), w["type_counts"][kTypeNames[t]].get<uint64_t>()) << kTypeNames[t];
        EXPECT_EQ(f->null_count(), w["null_count"].get<uint64_t>());
        EXPECT_EQ(p.missing_count(*f), w["missing_count"].get<uint64_t>());
        EXPECT_EQ(p.presence(*f), w["presence"].get<double>());  // the same division, correctly rounded
        EXPECT_EQ(f->type_conflict(), w["type_conflict"].get<bool>());
        if (w["type"].is_null()) {
            EXPECT_FALSE(f->type());
        } else {
            ASSERT_TRUE(f->type());
            EXPECT_STREQ(core::value_type_name(*f->type()), w["type"].get<std::string>().c_str());
        }
        if (w.contains("numbers")) {
            const json& n = w["numbers"];
            const auto s = f->stats(StatsKind::Numeric);
            ASSERT_TRUE(s);
            EXPECT_EQ(s->count(), n["count"].get<uint64_t>());
            EXPECT_EQ(s->null_count(), f->null_count());
            EXPECT_TRUE(rel(*s->mean(), n["mean"].get<double>(), 1e-9, "mean"));
            if (n["variance"].is_null()) EXPECT_FALSE(s->variance());
            else EXPECT_TRUE(rel(*s->variance(), n["variance"].get<double>(), 1e-9, "variance"));
            EXPECT_EQ(*s->min(), n["min"].get<double>());
            EXPECT_EQ(*s->max(), n["max"].get<double>());
        } else {
            EXPECT_EQ(f->values(StatsKind::Numeric), nullptr);
        }
        if (w.contains("strings")) {
            const json& st = w["strings"];
            const auto s = f->stats(StatsKind::Categorical);
            ASSERT_TRUE(s);
            EXPECT_EQ(s->count(), st["count"].get<uint64_t>());
            const uint64_t distinct = st["distinct"].get<uint64_t>();
            const std::vector<std::string> domain = f->domain();
            const auto top5 = st["top5"].get<std::vector<std::string>>();
            if (st["domain"].is_null()) {
                EXPECT_FALSE(f->domain_complete());
                EXPECT_EQ(domain.size(), 64u);
                // HyperLogLog in its linear-counting range: within 2% here.
                EXPECT_NEAR(double(s->distinct()), double(distinct), 0.02 * double(distinct));
                for (const std::string& v : top5)
                    EXPECT_NE(std::find(domain.begin(), domain.end(), v), domain.end()) << v;
            } else {
                EXPECT_TRUE(f->domain_complete());
                EXPECT_EQ(s->distinct(), distinct);
                EXPECT_EQ(std::set<std::string>(domain.begin(), domain.end()),
                          st["domain"].get<std::set<std::string>>());
                // Exact counts: the listing's order is the true order (count desc, then bytes).
                EXPECT_EQ(std::vector<std::string>(domain.begin(), domain.begin() + long(top5.size())), top5);
            }
        } else {
            EXPECT_EQ(f->values(StatsKind::Categorical), nullptr);
            EXPECT_TRUE(f->domain().empty());
            EXPECT_FALSE(f->domain_complete());
        }
        // The statistics of the feature are those of its type's kind.
        if (f->stats_kind()) {
            EXPECT_EQ(f->stats()->encode(), f->stats(*f->stats_kind())->encode());
        } else {
            EXPECT_FALSE(f->stats());
        }
    }
    // Kinds: numbers-and-booleans features numeric, strings categorical; "tags" is mostly nested
    // but its strings give it categorical statistics; "nulls" has none.
    EXPECT_EQ(p.find("flag")->stats_kind(), StatsKind::Numeric);
    EXPECT_EQ(p.find("mixed")->stats_kind(), StatsKind::Numeric);
    EXPECT_EQ(p.find("tags")->stats_kind(), StatsKind::Categorical);
    EXPECT_FALSE(p.find("nulls")->stats_kind());
}

TEST(Profile, MergeOfSplitRowsEqualsOnePass) {
    const json& rows = reference()["rows"];
    const Profile one = profile_of(rows);
    const size_t n = rows.size();
    // Uneven parts, merged left to right, right to left, as a tree, and through the binary form
    // (as parallel workers send them).
    const std::vector<size_t> cuts = {0, 1, 17, 400, 401, 1999, 2600, n};
    std::vector<Profile> parts;
    for (size_t i = 0; i + 1 < cuts.size(); i++) parts.push_back(profile_of(rows, cuts[i], cuts[i + 1]));
    Profile left, right, via_bytes;
    for (const Profile& q : parts) left.merge(q);
    for (size_t i = parts.size(); i-- > 0;) right.merge(parts[i]);
    for (const Profile& q : parts) via_bytes.merge(Profile::decode(q.encode()));
    Profile tree_a = parts[0], tree_b = parts[4];
    for (size_t i = 1; i < 4; i++) tree_a.merge(parts[i]);
    for (size_t i = 5; i < parts.size(); i++) tree_b.merge(parts[i]);
    tree_a.merge(tree_b);
    for (const Profile* m : {&left, &right, &via_bytes, &tree_a}) expect_same_profile(*m, one, 1e-12);
    EXPECT_EQ(left.encode(), via_bytes.encode());
    // Merging an empty profile changes nothing; merging into one gives the other.
    Profile empty;
    Profile copy = one;
    copy.merge(empty);
    EXPECT_EQ(copy.encode(), one.encode());
    empty.merge(one);
    EXPECT_EQ(empty.encode(), one.encode());
    // Self-merge doubles every count.
    Profile twice = parts[1];
    twice.merge(twice);
    EXPECT_EQ(twice.rows(), 2 * parts[1].rows());
    for (const auto& [name, f] : twice.features()) EXPECT_EQ(f.count(), 2 * parts[1].find(name)->count()) << name;
}

// ---- by hand ---------------------------------------------------------------------------------

TEST(Profile, PresenceTypesAndConflictsByHand) {
    Profile p;
    // row 1: a=3, b="x", d=1
    p.start_row();
    p.add_number("a", 3);
    p.add_string("b", "x");
    p.add_number("d", 1);
    // row 2: a=true, c=NULL, d="u"
    p.start_row();
    p.add_boolean("a", true);
    p.add_null("c");
    p.add_string("d", "u");
    // row 3: a="s", b="y", d="v"
    p.start_row();
    p.add_string("a", "s");
    p.add_string("b", "y");
    p.add_string("d", "v");
    // row 4: b nested, a NULL
    p.start_row();
    p.add_nested("b");
    p.add_null("a");
    // row 5: nothing at all
    p.start_row();

    EXPECT_EQ(p.rows(), 5u);
    ASSERT_EQ(p.size(), 4u);
    const FeatureProfile& a = *p.find("a");
    EXPECT_EQ(a.type_count(ValueType::Numeric), 1u);
    EXPECT_EQ(a.type_count(ValueType::Boolean), 1u);
    EXPECT_EQ(a.type_count(ValueType::Categorical), 1u);
    EXPECT_EQ(a.count(), 3u);
    EXPECT_EQ(a.null_count(), 1u);
    EXPECT_EQ(p.missing_count(a), 1u);
    EXPECT_EQ(p.presence(a), 0.6);
    EXPECT_TRUE(a.type_conflict());
    EXPECT_EQ(a.type(), ValueType::Numeric);  // a three-way tie goes to numeric
    EXPECT_EQ(a.stats_kind(), StatsKind::Numeric);
    const auto as = a.stats();
    ASSERT_TRUE(as);
    EXPECT_EQ(as->count(), 2u);  // 3 and true
    EXPECT_EQ(as->null_count(), 1u);
    EXPECT_EQ(*as->mean(), 2.0);
    EXPECT_EQ(a.stats(StatsKind::Categorical)->count(), 1u);
    EXPECT_EQ(a.domain(), std::vector<std::string>{"s"});
    EXPECT_TRUE(a.domain_complete());

    const FeatureProfile& b = *p.find("b");
    EXPECT_EQ(b.type(), ValueType::Categorical);
    EXPECT_TRUE(b.type_conflict());
    EXPECT_EQ(b.type_count(ValueType::Nested), 1u);
    EXPECT_EQ(p.presence(b), 0.6);
    EXPECT_EQ(p.missing_count(b), 2u);
    EXPECT_EQ(b.domain(), (std::vector<std::string>{"x", "y"}));

    const FeatureProfile& c = *p.find("c");
    EXPECT_FALSE(c.type());
    EXPECT_FALSE(c.stats_kind());
    EXPECT_FALSE(c.stats());
    EXPECT_FALSE(c.type_conflict());
    EXPECT_EQ(c.null_count(), 1u);
    EXPECT_EQ(p.presence(c), 0.0);
    EXPECT_EQ(p.missing_count(c), 4u);
    EXPECT_TRUE(c.domain().empty());

    const FeatureProfile& d = *p.find("d");
    EXPECT_EQ(d.type(), ValueType::Categorical);  // two strings, one number
    EXPECT_EQ(d.stats_kind(), StatsKind::Categorical);
    EXPECT_EQ(d.stats()->count(), 2u);
    EXPECT_EQ(*d.stats(StatsKind::Numeric)->mean(), 1.0);

    // Names come out in byte order.
    std::vector<std::string> names;
    for (const auto& [name, f] : p.features()) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));

    // Mostly nested: type nested; the statistics of its scalar values all the same.
    Profile q;
    for (int i = 0; i < 3; i++) {
        q.start_row();
        q.add_nested("n");
    }
    q.start_row();
    q.add_number("n", 7);
    EXPECT_EQ(q.find("n")->type(), ValueType::Nested);
    EXPECT_EQ(q.find("n")->stats_kind(), StatsKind::Numeric);
    EXPECT_EQ(*q.find("n")->stats()->mean(), 7.0);
    // Only nested values: no statistics.
    Profile r;
    r.start_row();
    r.add_nested("n");
    EXPECT_FALSE(r.find("n")->stats_kind());
    EXPECT_FALSE(r.find("n")->stats());
}

TEST(Profile, NanInfinityAndBooleansAreCounted) {
    Profile p;
    const double xs[] = {1.0, kNaN, kInf, -kInf, 0.0, 2.0};
    for (double x : xs) {
        p.start_row();
        p.add_number("x", x);
        p.add_boolean("flag", x > 0.5);
    }
    const auto s = p.find("x")->stats();
    EXPECT_EQ(s->count(), 6u);
    EXPECT_EQ(s->nan_count(), 1u);
    EXPECT_EQ(s->pos_inf_count(), 1u);
    EXPECT_EQ(s->neg_inf_count(), 1u);
    EXPECT_EQ(s->zero_count(), 1u);
    EXPECT_EQ(*s->mean(), 1.0);
    const FeatureProfile& flag = *p.find("flag");
    EXPECT_EQ(flag.type(), ValueType::Boolean);
    EXPECT_EQ(flag.stats()->count(), 6u);
    EXPECT_EQ(*flag.stats()->mean(), 0.5);  // 1, inf, 2 are > 0.5
    EXPECT_FALSE(flag.type_conflict());
}

// The statistics a profile gives for a feature are those ml_stats(x) gives for the column, NULLs
// included, byte for byte: few NULLs (added one by one) and many (added by doubling).
TEST(Profile, FeatureStatsEqualColumnStats) {
    for (uint64_t every : {2u, 7u, 1000u}) {
        for (int nrows : {10, 5000}) {
            SCOPED_TRACE(::testing::Message() << "rows " << nrows << ", a NULL every " << every);
            Profile p;
            FeatureStats num(StatsKind::Numeric), cat(StatsKind::Categorical);
            for (int i = 0; i < nrows; i++) {
                p.start_row();
                if (i % int(every) == 0) {
                    p.add_null("x");
                    p.add_null("c");
                    num.add_null();
                    cat.add_null();
                } else {
                    const double x = std::sin(i) * 100.0 + 1e6;
                    const std::string c = "v" + std::to_string(i % 97);
                    p.add_number("x", x);
                    p.add_string("c", c);
                    num.add(x);
                    cat.add(std::string_view(c));
                }
            }
            EXPECT_EQ(p.find("x")->stats()->encode(), num.encode());
            EXPECT_EQ(p.find("c")->stats()->encode(), cat.encode());
        }
    }
    // A feature with 10^6 NULLs and one value: the doubling path adds exactly 10^6.
    Profile p;
    for (int i = 0; i < 1000000; i++) {
        p.start_row();
        p.add_null("x");
    }
    p.start_row();
    p.add_number("x", 4.0);
    EXPECT_EQ(p.find("x")->stats()->null_count(), 1000000u);
    EXPECT_EQ(p.find("x")->stats()->count(), 1u);
}

TEST(Profile, DeterministicAndCopiesAreIndependent) {
    const json& rows = reference()["rows"];
    EXPECT_EQ(profile_of(rows).encode(), profile_of(rows).encode());
    // A copy taken mid-stream continues exactly as the original (the row cache is not shared).
    Profile a = profile_of(rows, 0, 1000);
    Profile b = a;
    Profile c;
    c = a;
    for (size_t i = 1000; i < rows.size(); i++) {
        add_json_row(a, rows[i]);
        add_json_row(b, rows[i]);
        add_json_row(c, rows[i]);
    }
    EXPECT_EQ(a.encode(), profile_of(rows).encode());
    EXPECT_EQ(b.encode(), a.encode());
    EXPECT_EQ(c.encode(), a.encode());
    // Rows naming features in changing orders (the cache misses) give the same profile.
    Profile x, y;
    for (int i = 0; i < 100; i++) {
        x.start_row();
        y.start_row();
        const std::string names[] = {"p", "q", "r"};
        for (int k = 0; k < 3; k++) x.add_number(names[(k + i) % 3], double(i * 3 + k));
        // y: the same values, always in name order
        double v[3];
        for (int k = 0; k < 3; k++) v[(k + i) % 3] = double(i * 3 + k);
        for (int k = 0; k < 3; k++) y.add_number(names[k], v[k]);
    }
    EXPECT_EQ(x.encode(), y.encode());
}

// ---- errors and limits --------------------------------------------------------------------------

TEST(Profile, BadRowsAreRefused) {
    Profile p;
    expect_error(ErrorKind::Internal, [&] { p.add_number("a", 1); });  // no row started
    p.start_row();
    p.add_number("a", 1);
    EXPECT_NE(expect_error(ErrorKind::InvalidParameter, [&] { p.add_string("a", "x"); }).find("appears twice"),
              std::string::npos);
    p.start_row();
    p.add_number("a", 2);  // a new row may name it again
    expect_error(ErrorKind::InvalidText, [&] { p.add_number("\xff", 1); });
    expect_error(ErrorKind::InvalidText, [&] { p.add_number(std::string_view("a\0b", 3), 1); });
    expect_error(ErrorKind::ProgramLimit, [&] { p.add_number(std::string(1025, 'n'), 1); });
    p.start_row();
    p.add_number(std::string(1024, 'n'), 1);  // at the limit
    p.add_number("", 1);                      // an empty name (a jsonb key may be "")
    EXPECT_EQ(p.size(), 3u);
}

TEST(Profile, FeatureCapIsEnforced) {
    Profile p;
    p.start_row();
    for (size_t i = 0; i < core::kProfileMaxFeatures; i++) p.add_number("f" + std::to_string(i), 1.0);
    EXPECT_EQ(p.size(), core::kProfileMaxFeatures);
    p.start_row();
    p.add_number("f0", 2.0);  // known names are fine
    const std::string msg = expect_error(ErrorKind::ProgramLimit, [&] { p.add_number("one too many", 1.0); });
    EXPECT_NE(msg.find("at most 10000 features"), std::string::npos) << msg;
    // A profile at the cap round-trips.
    EXPECT_EQ(Profile::decode(p.encode()).size(), core::kProfileMaxFeatures);
    // Merging past the cap is refused and changes nothing.
    Profile a, b;
    a.start_row();
    b.start_row();
    for (int i = 0; i < 6000; i++) {
        a.add_number("a" + std::to_string(i), 1.0);
        b.add_number("b" + std::to_string(i), 1.0);
    }
    const std::string before = a.encode();
    expect_error(ErrorKind::ProgramLimit, [&] { a.merge(b); });
    EXPECT_EQ(a.encode(), before);
    // Overlapping names count once.
    Profile c = a;
    c.merge(a);
    EXPECT_EQ(c.size(), 6000u);
}

// ---- binary and text forms ------------------------------------------------------------------------

std::vector<Profile> samples() {
    std::vector<Profile> out;
    out.emplace_back();  // empty: no rows
    Profile small;
    small.start_row();
    small.add_number("a", 1.5);
    small.add_string("b", "x");
    small.add_null("c");
    small.start_row();
    small.add_boolean("a", false);
    small.add_nested("b");
    small.add_string("é", "ü");
    out.push_back(small);
    Profile bools;
    for (int i = 0; i < 50; i++) {
        bools.start_row();
        bools.add_boolean("flag", i % 3 == 0);
    }
    out.push_back(bools);
    out.push_back(profile_of(reference()["rows"]));
    return out;
}

constexpr size_t kLengthAt = 8, kCountAt = 12, kChecksumAt = 16, kRowsAt = 24, kFirstFeatureAt = 32;

std::string reseal(std::string b) {
    const uint64_t head = core::xxh64(b.data(), kChecksumAt, 0x706C2D70726F66ull);
    const uint64_t sum = core::xxh64(b.data() + 24, b.size() - 24, head);
    std::memcpy(&b[kChecksumAt], &sum, 8);
    return b;
}

template <typename T>
std::string with(std::string b, size_t at, T v) {
    std::memcpy(&b[at], &v, sizeof v);
    return b;
}

template <typename T>
T at(const std::string& b, size_t off) {
    T v;
    std::memcpy(&v, &b[off], sizeof v);
    return v;
}

std::string decode_error(const std::string& b) {
    return expect_error(ErrorKind::InvalidBinary, [&] { Profile::decode(b); });
}

TEST(Profile, BinaryAndTextRoundTripsAreExact) {
    for (const Profile& p : samples()) {
        const std::string bin = p.encode();
        ASSERT_EQ(bin.size(), p.encoded_size());
        std::string raw(p.encoded_size(), '\0');
        p.encode(reinterpret_cast<uint8_t*>(raw.data()), raw.size());
        EXPECT_EQ(raw, bin);
        const Profile d = Profile::decode(bin);
        EXPECT_EQ(d.encode(), bin);
        const std::string text = p.to_text();
        const Profile t = Profile::from_text(text);
        EXPECT_EQ(t.encode(), bin);
        EXPECT_EQ(t.to_text(), text);
        EXPECT_EQ(t.summary().dump(), p.summary().dump());
        // A decoded value goes on exactly as the original would.
        Profile x = p, y = d;
        for (int i = 0; i < 700; i++) {
            for (Profile* q : {&x, &y}) {
                q->start_row();
                q->add_number("a", std::sin(i));
                q->add_string("zz", std::to_string(i % 70));
            }
        }
        EXPECT_EQ(x.encode(), y.encode());
    }
    // Text features may come in any order; they are kept in name order.
    const Profile s = samples()[1];
    json j = json::parse(s.to_text());
    std::reverse(j["features"].begin(), j["features"].end());
    EXPECT_EQ(Profile::from_text(j.dump()).encode(), s.encode());
}

TEST(Profile, CorruptBinaryIsRejected) {
    for (const Profile& p : samples()) {
        const std::string b = p.encode();
        SCOPED_TRACE(::testing::Message() << b.size() << " bytes");
        ASSERT_EQ(Profile::decode(reseal(b)).encode(), b);  // reseal is the format's checksum
        for (size_t len = 0; len < b.size(); len += (len < 300 ? 1 : 89)) decode_error(b.substr(0, len));
        decode_error(b + std::string(1, '\0'));
        EXPECT_NE(decode_error(with<char>(b, 0, 'X')).find("bad magic"), std::string::npos);
        EXPECT_NE(decode_error(with<uint16_t>(b, 4, 2)).find("version 2"), std::string::npos);
        EXPECT_NE(decode_error(with<uint8_t>(b, b.size() - 1, uint8_t(b.back() ^ 1))).find("checksum"), std::string::npos);
        EXPECT_NE(decode_error(with<uint8_t>(b, 27, uint8_t(b[27] ^ 0x40))).find("checksum"), std::string::npos);
        // Lying fields behind a correct checksum: each field's own check must catch them.
        EXPECT_NE(decode_error(reseal(with<uint32_t>(b, kLengthAt, uint32_t(b.size() + 8)))).find("length field"),
                  std::string::npos);
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, 6, 1))).find("flags"), std::string::npos);
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, 7, 1))).find("reserved"), std::string::npos);
        const uint32_t nf = at<uint32_t>(b, kCountAt);
        decode_error(reseal(with<uint32_t>(b, kCountAt, nf + 1)));
        if (nf) decode_error(reseal(with<uint32_t>(b, kCountAt, nf - 1)));
        EXPECT_NE(decode_error(reseal(with<uint32_t>(b, kCountAt, 10001))).find("at most 10000"), std::string::npos);
        if (nf == 0) continue;
        // Fewer rows than a feature appears in.
        EXPECT_NE(decode_error(reseal(with<uint64_t>(b, kRowsAt, 0))).find("rows"), std::string::npos);
        // The first feature: name, counts, parts.
        const size_t name_len = at<uint32_t>(b, kFirstFeatureAt);
        const size_t counts = kFirstFeatureAt + 4 + name_len, parts = counts + 40;
        decode_error(reseal(with<uint32_t>(b, kFirstFeatureAt, uint32_t(name_len + 1))));
        decode_error(reseal(with<uint32_t>(b, kFirstFeatureAt, 0xFFFFFFFFu)));
        if (name_len) {
            EXPECT_NE(decode_error(reseal(with<uint8_t>(b, kFirstFeatureAt + 4, 0xFF))).find("UTF-8"), std::string::npos);
            EXPECT_NE(decode_error(reseal(with<uint8_t>(b, kFirstFeatureAt + 4, 0))).find("NUL"), std::string::npos);
        }
        const uint64_t rows = at<uint64_t>(b, kRowsAt);
        for (size_t t = 0; t < 5; t++) {
            const uint64_t c = at<uint64_t>(b, counts + 8 * t);
            // Numbers, booleans and strings against the statistics; nested values and NULLs
            // against the rows.
            if (t < 3) decode_error(reseal(with<uint64_t>(b, counts + 8 * t, c + 1)));
            else EXPECT_NE(decode_error(reseal(with<uint64_t>(b, counts + 8 * t, rows + 1))).find("more rows"), std::string::npos);
            decode_error(reseal(with<uint64_t>(b, counts + 8 * t, ~uint64_t(0))));
        }
        const uint64_t half = uint64_t(1) << 63;
        EXPECT_NE(decode_error(reseal(with<uint64_t>(with<uint64_t>(b, counts, half), counts + 32, half))).find("overflow"),
                  std::string::npos);
        const uint8_t pm = at<uint8_t>(b, parts);
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, parts, uint8_t(pm | 4)))).find("parts"), std::string::npos);
        decode_error(reseal(with<uint8_t>(b, parts, uint8_t(pm ^ 1))));
        decode_error(reseal(with<uint8_t>(b, parts, uint8_t(pm ^ 2))));
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, parts + 1, 1))).find("reserved"), std::string::npos);
        EXPECT_NE(decode_error(reseal(with<uint16_t>(b, parts + 2, 1))).find("reserved"), std::string::npos);
        if (pm) {
            // The statistics' own form: its length, and a byte inside it (its own checksum).
            const uint32_t slen = at<uint32_t>(b, parts + 4);
            decode_error(reseal(with<uint32_t>(b, parts + 4, slen + 1)));
            decode_error(reseal(with<uint32_t>(b, parts + 4, slen - 1)));
            const std::string msg = decode_error(reseal(with<uint8_t>(b, parts + 8 + 30, uint8_t(b[parts + 8 + 30] ^ 1))));
            EXPECT_NE(msg.find("statistics"), std::string::npos) << msg;
        }
        // Names out of order: swap the first byte of two one-byte names when there are.
        if (nf >= 2 && name_len == 1) {
            // Rename the first feature after the second one: same length, so only the order breaks.
            EXPECT_NE(decode_error(reseal(with<char>(b, kFirstFeatureAt + 4, '\x7e'))).find("order"), std::string::npos);
        }
    }
}

// Random bytes changed behind a recomputed checksum: refused with InvalidBinary, or a valid value
// that encodes and decodes stably. Never anything else (run under ASan).
TEST(Profile, RandomCorruptionBehindAValidChecksum) {
    uint64_t state = 12345;
    size_t refused = 0, accepted = 0;
    for (const Profile& p : samples()) {
        const std::string b = p.encode();
        if (b.size() <= 24) continue;
        for (int trial = 0; trial < 2000; trial++) {
            std::string m = b;
            const int edits = 1 + int(core::detail::splitmix64(state) % 3);
            for (int e = 0; e < edits; e++) {
                const size_t off = 24 + size_t(core::detail::splitmix64(state) % (m.size() - 24));
                m[off] = char(core::detail::splitmix64(state) & 0xFF);
            }
            m = reseal(m);
            try {
                const Profile d = Profile::decode(m);
                const std::string again = d.encode();
                EXPECT_EQ(Profile::decode(again).encode(), again);
                accepted++;
            } catch (const core::Error& e) {
                EXPECT_EQ(int(e.kind()), int(ErrorKind::InvalidBinary)) << e.what();
                refused++;
            }
        }
    }
    EXPECT_GT(refused, 3000u);
    std::printf("random corruptions: %zu refused, %zu accepted as other valid values\n", refused, accepted);
}

std::string text_error(const std::string& t) {
    return expect_error(ErrorKind::InvalidText, [&] { Profile::from_text(t); });
}

TEST(Profile, CorruptTextIsRejected) {
    const Profile s = samples()[1];
    const json j = json::parse(s.to_text());
    auto edit = [&](auto f) {
        json c = j;
        f(c);
        return c.dump();
    };
    text_error("");
    text_error("not json");
    text_error("[1]");
    text_error(std::string(50, '[') + std::string(50, ']'));
    EXPECT_NE(text_error(edit([](json& c) { c["pg_learn_profile"] = 2; })).find("version"), std::string::npos);
    EXPECT_NE(text_error(edit([](json& c) { c["extra"] = 1; })).find("unknown key"), std::string::npos);
    EXPECT_NE(text_error(edit([](json& c) { c.erase("rows"); })).find("missing key"), std::string::npos);
    text_error(edit([](json& c) { c["rows"] = -1; }));
    text_error(edit([](json& c) { c["rows"] = 1; }));  // fewer rows than feature "a" appears in
    text_error(edit([](json& c) { c["rows"] = 0; }));
    text_error(edit([](json& c) { c["features"] = json::object(); }));
    text_error(edit([](json& c) { c["features"][0] = 5; }));
    EXPECT_NE(text_error(edit([](json& c) { c["features"][0]["colour"] = 1; })).find("unknown key"), std::string::npos);
    text_error(edit([](json& c) { c["features"][0].erase("name"); }));
    text_error(edit([](json& c) { c["features"][0]["name"] = 7; }));
    text_error(edit([](json& c) { c["features"][0]["name"] = std::string(1025, 'x'); }));
    text_error(edit([](json& c) { c["features"][0]["name"] = std::string("a\0b", 3); }));
    EXPECT_NE(text_error(edit([](json& c) { c["features"][1]["name"] = "a"; })).find("twice"), std::string::npos);
    text_error(edit([](json& c) { c["features"][0]["numeric_count"] = 2; }));  // vs the statistics
    text_error(edit([](json& c) { c["features"][0]["numeric_count"] = "1"; }));
    text_error(edit([](json& c) { c["features"][0].erase("null_count"); }));
    text_error(edit([](json& c) { c["features"][0].erase("numeric_stats"); }));  // numbers without statistics
    text_error(edit([](json& c) { c["features"][0]["numeric_stats"] = "x"; }));
    EXPECT_NE(text_error(edit([](json& c) { c["features"][0]["numeric_stats"]["finite_count"] = 5; })).find("numeric_stats"),
              std::string::npos);
    // Statistics of the wrong kind in a slot.
    text_error(edit([](json& c) { c["features"][0]["numeric_stats"] = c["features"][1]["categorical_stats"]; }));
    // A feature that appears nowhere.
    text_error(edit([](json& c) {
        c["features"].push_back({{"name", "zz"}, {"numeric_count", 0}, {"boolean_count", 0}, {"categorical_count", 0},
                                 {"nested_count", 0}, {"null_count", 0}});
    }));
    // Booleans only, but the statistics hold a 1.5.
    text_error(edit([](json& c) {
        c["features"][0]["numeric_count"] = 0;
        c["features"][0]["boolean_count"] = 2;
    }));
}

TEST(Profile, SummaryHasEverything) {
    const Profile s = samples()[1];
    const auto j = s.summary();
    EXPECT_EQ(j["rows"], 2);
    EXPECT_EQ(j["feature_count"], 4);
    const auto& a = j["features"]["a"];
    EXPECT_EQ(a["type"], "numeric");  // a tie of numeric and boolean
    EXPECT_EQ(a["type_counts"]["numeric"], 1);
    EXPECT_EQ(a["type_counts"]["boolean"], 1);
    EXPECT_EQ(a["type_conflict"], true);
    EXPECT_EQ(a["presence"], 1.0);
    EXPECT_EQ(a["count"], 2);
    EXPECT_EQ(a["stats"]["mean"], 0.75);
    EXPECT_TRUE(a["domain"].is_null());
    EXPECT_FALSE(a.contains("other_stats"));
    const auto& b = j["features"]["b"];
    EXPECT_EQ(b["type"], "categorical");  // tie of categorical and nested
    EXPECT_EQ(b["domain"], nlohmann::ordered_json::array({"x"}));
    EXPECT_EQ(b["domain_complete"], true);
    EXPECT_EQ(b["stats"]["kind"], "categorical");
    const auto& c = j["features"]["c"];
    EXPECT_TRUE(c["type"].is_null());
    EXPECT_TRUE(c["stats"].is_null());
    EXPECT_EQ(c["null_count"], 1);
    EXPECT_EQ(c["missing_count"], 1);
    EXPECT_EQ(c["presence"], 0.0);
    EXPECT_EQ(j["features"]["é"]["presence"], 0.5);
    // A conflict shows the other kind's statistics too.
    Profile q;
    q.start_row();
    q.add_number("m", 1);
    q.start_row();
    q.add_string("m", "s");
    q.start_row();
    q.add_number("m", 3);
    const auto m = q.summary()["features"]["m"];
    EXPECT_EQ(m["stats"]["kind"], "numeric");
    EXPECT_EQ(m["other_stats"]["kind"], "categorical");
    EXPECT_EQ(m["domain"], nlohmann::ordered_json::array({"s"}));
}

}  // namespace
}  // namespace pg_learn::test
