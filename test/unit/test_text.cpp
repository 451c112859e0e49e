// The core's text helpers: UTF-8 validation and cuts, shortest exact number formatting.
#include "test_util.hpp"

#include "core/common/text.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace pg_learn::test {
namespace {

using core::format_double;
using core::utf8_invalid_offset;
using core::utf8_prefix;

TEST(Utf8, ValidSequencesAtTheEdgesOfEachRange) {
    // RFC 3629 table 4: the first and last code point of each row of well-formed sequences.
    for (const char* s : {"", "a", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xe0\xbf\xbf",
                          "\xe1\x80\x80", "\xec\xbf\xbf", "\xed\x80\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                          "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\xbf\xbf\xbf", "\xf1\x80\x80\x80",
                          "\xf3\xbf\xbf\xbf", "\xf4\x80\x80\x80", "\xf4\x8f\xbf\xbf", "caf\xc3\xa9 \xe2\x82\xac"}) {
        EXPECT_TRUE(core::is_valid_utf8(s)) << testing::PrintToString(std::string(s));
    }
    EXPECT_TRUE(core::is_valid_utf8(std::string_view("a\0b", 3)));  // NUL is a character
}

TEST(Utf8, InvalidSequencesReportTheirOffset) {
    struct Case {
        const char* s;
        size_t offset;
    };
    for (const Case& c : {Case{"\x80", 0}, Case{"ab\xbf", 2}, Case{"\xc0\x80", 0}, Case{"\xc1\xbf", 0},
                          Case{"a\xc2", 1}, Case{"\xc2" "a", 0}, Case{"\xe0\x9f\xbf", 0}, Case{"\xe0\xa0", 0},
                          Case{"\xed\xa0\x80", 0}, Case{"\xed\xbf\xbf", 0}, Case{"\xef\xbf" "a", 0},
                          Case{"\xf0\x8f\xbf\xbf", 0}, Case{"\xf4\x90\x80\x80", 0}, Case{"\xf5\x80\x80\x80", 0},
                          Case{"\xf8\x88\x80\x80\x80", 0}, Case{"\xfe", 0}, Case{"\xff", 0},
                          Case{"ok\xc3\xa9\xe2\x82", 4}, Case{"\xf0\x9f\x98", 0}}) {
        EXPECT_EQ(utf8_invalid_offset(c.s), c.offset) << testing::PrintToString(std::string(c.s));
    }
}

TEST(Utf8, PrefixNeverSplitsACharacter) {
    const std::string e = "\xc3\xa9", euro = "\xe2\x82\xac", grin = "\xf0\x9f\x98\x80";
    EXPECT_EQ(utf8_prefix("abc", 64), "abc");
    EXPECT_EQ(utf8_prefix("abc", 3), "abc");
    EXPECT_EQ(utf8_prefix("abcd", 3), "abc");
    EXPECT_EQ(utf8_prefix("ab" + e, 3), "ab");
    EXPECT_EQ(utf8_prefix("ab" + e, 4), "ab" + e);
    EXPECT_EQ(utf8_prefix("a" + euro + "b", 2), "a");
    EXPECT_EQ(utf8_prefix("a" + euro + "b", 3), "a");
    EXPECT_EQ(utf8_prefix("a" + euro + "b", 4), "a" + euro);
    for (size_t n = 0; n < 4; n++) EXPECT_EQ(utf8_prefix(grin + grin, n), "") << n;
    for (size_t n = 4; n < 8; n++) EXPECT_EQ(utf8_prefix(grin + grin, n), grin) << n;
    EXPECT_EQ(utf8_prefix(grin + grin, 8), grin + grin);
    EXPECT_EQ(utf8_prefix("", 0), "");
    // every cut of a valid mixed string is valid and as long as it can be
    const std::string mixed = "a" + e + euro + grin + "b" + grin + e + euro;
    for (size_t n = 0; n <= mixed.size() + 1; n++) {
        auto p = utf8_prefix(mixed, n);
        EXPECT_TRUE(core::is_valid_utf8(p)) << n;
        EXPECT_LE(p.size(), n);
        EXPECT_GT(p.size() + 4, std::min(n, mixed.size())) << n;
        EXPECT_EQ(mixed.compare(0, p.size(), p), 0);
    }
    EXPECT_EQ(core::message_name(std::string(100, 'x')), std::string(64, 'x'));
}

TEST(FormatDouble, ShortestExactAndReadable) {
    struct Case {
        double v;
        const char* text;
    };
    for (const Case& c : {Case{0, "0"}, Case{1, "1"}, Case{-1, "-1"}, Case{0.5, "0.5"}, Case{1.5, "1.5"},
                          Case{0.1, "0.1"}, Case{0.999999999, "0.999999999"}, Case{0.9, "0.9"},
                          Case{1e6, "1000000"}, Case{-1e12, "-1000000000000"}, Case{1e13, "10000000000000"},
                          Case{1e15, "1000000000000000"}, Case{1e16, "1e16"}, Case{1e300, "1e300"},
                          Case{1e-5, "0.00001"}, Case{1e-6, "1e-6"}, Case{1e-8, "1e-8"}, Case{2.5e-8, "2.5e-8"},
                          Case{0.30000000000000004, "0.30000000000000004"}, Case{123456.789, "123456.789"},
                          Case{std::numeric_limits<double>::max(), "1.7976931348623157e308"},
                          Case{std::numeric_limits<double>::denorm_min(), "5e-324"},
                          Case{std::numeric_limits<double>::infinity(), "inf"},
                          Case{-std::numeric_limits<double>::infinity(), "-inf"},
                          Case{std::nan(""), "nan"}}) {
        EXPECT_EQ(format_double(c.v), c.text);
    }
    // and it reads back exactly, over many magnitudes
    uint64_t s = 12345;
    for (int i = 0; i < 20000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v;
        uint64_t bits = s;
        std::memcpy(&v, &bits, 8);
        if (!std::isfinite(v)) continue;
        EXPECT_EQ(std::strtod(format_double(v).c_str(), nullptr), v) << format_double(v);
    }
}

}  // namespace
}  // namespace pg_learn::test
