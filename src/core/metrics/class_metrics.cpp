// The multiclass metric state: confusion matrix and log loss, their metrics (scikit-learn 1.2) and forms.
#include "core/metrics/class_metrics.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;
using nlohmann::json;

namespace {

// magic "PLCS", version, flags, reserved, u64 payload length, checksum of the payload.
constexpr HeaderSpec kHeader{"ml_class_metric_state", {'P', 'L', 'C', 'S'}, 1, 24, LengthField::Payload64, 8,
                             ChecksumKind::Payload, 16, 0, HeaderWording::Brief};
constexpr size_t kHeaderSize = kHeader.size;
constexpr uint16_t kVersion = kHeader.version;  // the text form's too
constexpr size_t kMaxStateBytes = (size_t(1) << 30) - 64;
// Each log-loss term is at most -log(kLogLossEps) = 36.04.
constexpr double kMaxLogLossTerm = 36.05;

uint64_t cell_key(uint32_t a, uint32_t p) { return (uint64_t(a) << 32) | p; }

std::string quote_name(std::string_view s) { return "\"" + message_name(s) + "\""; }

void check_class(std::string_view cls) {
    if (cls.empty()) fail(ErrorKind::InvalidParameter, "class must not be empty");
    if (size_t at = utf8_invalid_offset(cls); at != cls.size())
        fail(ErrorKind::InvalidText, "class is not valid UTF-8",
             "the byte at offset " + std::to_string(at) + " does not start a valid UTF-8 character");
}

// numerator / denominator, 0 on a zero denominator (sklearn's zero_division="warn").
double prf_divide(uint64_t num, uint64_t den) { return den == 0 ? 0.0 : double(num) / double(den); }

// sklearn: denom = p + r (1 when 0); f = 2 p r / denom.
double f_score(double p, double r) {
    const double d = p + r;
    return 2 * p * r / (d == 0 ? 1.0 : d);
}

double mean_exact(const std::vector<double>& v) {
    ExactSum s;
    for (double x : v) s.add(x);
    return s.to_double() / double(v.size());
}

double weighted_mean_exact(const std::vector<double>& v, const std::vector<uint64_t>& w) {
    ExactSum s;
    uint64_t total = 0;
    for (size_t i = 0; i < v.size(); i++) {
        // Counts above 2^53 are split so that each product is exact.
        const uint64_t hi = w[i] >> 32, lo = w[i] & 0xFFFFFFFFu;
        if (hi) s.add_product(v[i], std::ldexp(double(hi), 32));
        if (lo) s.add_product(v[i], double(lo));
        total += w[i];
    }
    return s.to_double() / double(total);
}

}  // namespace

Average parse_average(std::string_view s) {
    if (s == "macro") return Average::Macro;
    if (s == "micro") return Average::Micro;
    if (s == "weighted") return Average::Weighted;
    fail(ErrorKind::InvalidParameter, "average must be 'macro', 'micro' or 'weighted'", "got " + quote_name(s));
}

const char* average_name(Average a) {
    switch (a) {
        case Average::None: return "none";
        case Average::Macro: return "macro";
        case Average::Micro: return "micro";
        case Average::Weighted: return "weighted";
    }
    return "?";
}

ProbaPick pick_proba(std::string_view actual, const std::vector<ProbaEntry>& proba) {
    if (proba.empty())
        fail(ErrorKind::InvalidParameter, "probabilities must name at least one class",
             {}, "Write them as {\"class\": probability, ...}.");
    ProbaPick r{{}, 0.0};
    bool have = false;
    double best = -1;
    for (const auto& e : proba) {
        check_class(e.cls);
        if (!e.p)
            fail(ErrorKind::InvalidParameter, "probability of class " + quote_name(e.cls) + " must be a number",
                 std::string("got a JSON ") + e.type_name);
        const double p = check_probability(*e.p, ("probability of class " + quote_name(e.cls)).c_str());
        if (!have || p > best || (p == best && e.cls < r.predicted)) {
            best = p;
            r.predicted = e.cls;
            have = true;
        }
        if (e.cls == actual) r.p_actual = p;
    }
    return r;
}

// ---- the accumulator -----------------------------------------------------------------------------

ClassMetricState::ClassMetricState(bool with_proba, Average average) : with_proba_(with_proba), average_(average) {}

uint32_t ClassMetricState::id_of(std::string_view cls) {
    auto it = ids_.find(std::string(cls));
    if (it != ids_.end()) return it->second;
    uint32_t id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
        names_[id] = std::string(cls);
    } else {
        id = uint32_t(names_.size());
        names_.emplace_back(cls);
        support_.push_back(0);
        predicted_.push_back(0);
        correct_.push_back(0);
    }
    ids_.emplace(std::string(cls), id);
    return id;
}

void ClassMetricState::release_if_dead(uint32_t id) {
    if (support_[id] != 0 || predicted_[id] != 0) return;
    ids_.erase(names_[id]);
    names_[id].clear();
    free_.push_back(id);
}

void ClassMetricState::add_cell(uint32_t a, uint32_t p, uint64_t n) {
    cells_[cell_key(a, p)] += n;
    support_[a] += n;
    predicted_[p] += n;
    if (a == p) correct_[a] += n;
    rows_ += n;
}

void ClassMetricState::change(std::string_view actual, std::string_view predicted, const double* term, bool remove) {
    check_class(actual);
    check_class(predicted);
    if (remove) {
        auto ia = ids_.find(std::string(actual)), ip = ids_.find(std::string(predicted));
        auto cell = ia == ids_.end() || ip == ids_.end() ? cells_.end() : cells_.find(cell_key(ia->second, ip->second));
        if (cell == cells_.end())
            fail(ErrorKind::InvalidParameter, "cannot remove a row from a class metric state that does not hold it");
        const uint32_t a = ia->second, p = ip->second;
        if (--cell->second == 0) cells_.erase(cell);
        support_[a]--;
        predicted_[p]--;
        if (a == p) correct_[a]--;
        rows_--;
        if (term) logloss_sum_.sub(*term);
        release_if_dead(a);
        if (p != a) release_if_dead(p);
        return;
    }
    // Check the limit before creating anything, so a refused row leaves the state as it was.
    size_t fresh = ids_.count(std::string(actual)) ? 0 : 1;
    if (predicted != actual && !ids_.count(std::string(predicted))) fresh++;
    if (ids_.size() + fresh > kMaxMetricClasses)
        fail(ErrorKind::ProgramLimit, "too many classes for a class metric state",
             "the limit is " + std::to_string(kMaxMetricClasses) + " distinct classes",
             "A column with this many distinct values is not a class label.");
    const uint32_t a = id_of(actual);
    const uint32_t p = id_of(predicted);
    add_cell(a, p, 1);
    if (term) logloss_sum_.add(*term);
}

void ClassMetricState::change_proba(std::string_view actual, const std::vector<ProbaEntry>& proba, bool remove) {
    if (!with_proba_)
        fail(ErrorKind::InvalidParameter, "this class metric state was built from predicted classes, not probabilities");
    check_class(actual);
    const ProbaPick pick = pick_proba(actual, proba);
    const double term = logloss_term(pick.p_actual, true);
    change(actual, pick.predicted, &term, remove);
}

void ClassMetricState::merge(const ClassMetricState& o) {
    if (with_proba_ != o.with_proba_)
        fail(ErrorKind::InvalidParameter, "cannot merge a class metric state built from probabilities with one built "
                                          "from predicted classes");
    if (average_ != o.average_)
        fail(ErrorKind::InvalidParameter, "cannot merge class metric states with different averages",
             std::string(average_name(average_)) + " and " + average_name(o.average_));
    if (&o == this) {
        ClassMetricState copy(o);
        merge(copy);
        return;
    }
    size_t fresh = 0;
    for (const auto& [name, id] : o.ids_) fresh += ids_.count(name) ? 0 : 1;
    if (ids_.size() + fresh > kMaxMetricClasses)
        fail(ErrorKind::ProgramLimit, "too many classes for a class metric state",
             "the limit is " + std::to_string(kMaxMetricClasses) + " distinct classes");
    if (rows_ > std::numeric_limits<uint64_t>::max() - o.rows_)
        fail(ErrorKind::ProgramLimit, "class metric state row count overflows");
    std::vector<uint32_t> map(o.names_.size(), 0);
    for (const auto& [name, id] : o.ids_) map[id] = id_of(name);
    for (const auto& [key, n] : o.cells_) add_cell(map[uint32_t(key >> 32)], map[uint32_t(key)], n);
    logloss_sum_.add(o.logloss_sum_);
}

ClassMetricState::Sorted ClassMetricState::sorted() const {
    Sorted s;
    s.ids.reserve(ids_.size());
    for (const auto& [name, id] : ids_) s.ids.push_back(id);
    std::sort(s.ids.begin(), s.ids.end(), [&](uint32_t a, uint32_t b) { return names_[a] < names_[b]; });
    return s;
}

// ---- metrics -------------------------------------------------------------------------------------

std::optional<double> ClassMetricState::accuracy() const {
    if (rows_ == 0) return std::nullopt;
    uint64_t c = 0;
    for (const auto& [name, id] : ids_) c += correct_[id];
    return double(c) / double(rows_);
}

std::optional<double> ClassMetricState::logloss() const {
    if (!with_proba_ || rows_ == 0) return std::nullopt;
    // One rounding of the exact sum, one of the quotient (sklearn: np.average of the terms).
    return logloss_sum_.to_double() / double(rows_);
}

ClassMetricState::PerClass ClassMetricState::per_class(const Sorted& s) const {
    PerClass r;
    for (uint32_t id : s.ids) {
        const double p = prf_divide(correct_[id], predicted_[id]);
        const double rc = prf_divide(correct_[id], support_[id]);
        r.precision.push_back(p);
        r.recall.push_back(rc);
        r.f1.push_back(f_score(p, rc));
        r.support.push_back(support_[id]);
    }
    return r;
}

// which: 0 precision, 1 recall, 2 F1.
std::optional<double> ClassMetricState::averaged(Average a, int which) const {
    if (rows_ == 0) return std::nullopt;
    uint64_t correct = 0;
    for (const auto& [name, id] : ids_) correct += correct_[id];
    switch (a) {
        case Average::Micro: {
            // Single-label: the sums of predicted and of true counts are both the row count.
            const double p = prf_divide(correct, rows_), r = prf_divide(correct, rows_);
            return which == 2 ? f_score(p, r) : (which == 0 ? p : r);
        }
        case Average::Macro:
        case Average::Weighted: {
            const PerClass pc = per_class(sorted());
            const std::vector<double>& v = which == 0 ? pc.precision : (which == 1 ? pc.recall : pc.f1);
            // Weighted by support; the total support is the row count, > 0 here.
            return a == Average::Macro ? mean_exact(v) : weighted_mean_exact(v, pc.support);
        }
        case Average::None: break;
    }
    fail(ErrorKind::InvalidParameter, "average must be 'macro', 'micro' or 'weighted'");
}

std::optional<double> ClassMetricState::precision(Average a) const { return averaged(a, 0); }
std::optional<double> ClassMetricState::recall(Average a) const { return averaged(a, 1); }
std::optional<double> ClassMetricState::f1(Average a) const { return averaged(a, 2); }

std::vector<ClassCell> ClassMetricState::confusion_matrix() const {
    const Sorted s = sorted();
    std::vector<ClassCell> out;
    out.reserve(cells_.size());
    for (uint32_t a : s.ids)
        for (uint32_t p : s.ids) {
            // Dense walk only when it is cheap; otherwise look the cells up per row below.
            if (s.ids.size() > 256) break;
            auto it = cells_.find(cell_key(a, p));
            if (it != cells_.end()) out.push_back({names_[a], names_[p], it->second});
        }
    if (s.ids.size() > 256) {
        std::vector<uint32_t> rank(names_.size(), 0);
        for (uint32_t i = 0; i < s.ids.size(); i++) rank[s.ids[i]] = i;
        std::vector<std::pair<uint64_t, uint64_t>> v;  // (rank key, n)
        v.reserve(cells_.size());
        for (const auto& [key, n] : cells_) v.push_back({cell_key(rank[uint32_t(key >> 32)], rank[uint32_t(key)]), n});
        std::sort(v.begin(), v.end());
        for (const auto& [key, n] : v) out.push_back({names_[s.ids[key >> 32]], names_[s.ids[uint32_t(key)]], n});
    }
    return out;
}

std::vector<ClassScores> ClassMetricState::report() const {
    const Sorted s = sorted();
    const PerClass pc = per_class(s);
    std::vector<ClassScores> out;
    for (size_t i = 0; i < s.ids.size(); i++)
        out.push_back({names_[s.ids[i]], pc.precision[i], pc.recall[i], pc.f1[i], pc.support[i]});
    return out;
}

// ---- validation shared by both forms -------------------------------------------------------------

template <typename Bad>
void ClassMetricState::validate(Bad&& bad) const {
    if (uint8_t(average_) > 3) bad("unknown average");
    if (ids_.size() > kMaxMetricClasses) bad("more than " + std::to_string(kMaxMetricClasses) + " classes");
    for (const auto& [name, id] : ids_)
        if (support_[id] == 0 && predicted_[id] == 0) bad("class " + quote_name(name) + " has no rows");
    if (!with_proba_ && !logloss_sum_.is_zero()) bad("log-loss sum without probabilities");
    if (logloss_sum_.sign() < 0) bad("negative sum of losses");
    ExactSum limit;
    const uint64_t hi = rows_ >> 32, lo = rows_ & 0xFFFFFFFFu;
    if (hi) limit.add_product(kMaxLogLossTerm, std::ldexp(double(hi), 32));
    if (lo) limit.add_product(kMaxLogLossTerm, double(lo));
    limit.sub(logloss_sum_);
    if (limit.sign() < 0) bad("sum of losses exceeds what the rows can give");
}

// ---- binary form ---------------------------------------------------------------------------------

size_t ClassMetricState::encoded_size() const {
    size_t n = kHeaderSize + 2 + 8 + 4 + 4;
    for (const auto& [name, id] : ids_) n += 4 + name.size();
    n += 16 * cells_.size();
    n += logloss_sum_.encoded_size();
    if (n > kMaxStateBytes)
        fail(ErrorKind::ProgramLimit, "class metric state is too large to store",
             "it needs " + std::to_string(n) + " bytes; the limit is " + std::to_string(kMaxStateBytes));
    return n;
}

void ClassMetricState::encode(uint8_t* out, size_t n) const {
    if (n != encoded_size()) fail(ErrorKind::Internal, "class metric state encode size mismatch");
    // The decoder's own check: never write what it refuses.
    validate([](const std::string& why) { unstorable("ml_class_metric_state", why); });
    const Sorted s = sorted();
    std::vector<uint32_t> rank(names_.size(), 0);
    for (uint32_t i = 0; i < s.ids.size(); i++) rank[s.ids[i]] = i;
    std::vector<std::pair<uint64_t, uint64_t>> cells;
    cells.reserve(cells_.size());
    for (const auto& [key, c] : cells_) cells.push_back({cell_key(rank[uint32_t(key >> 32)], rank[uint32_t(key)]), c});
    std::sort(cells.begin(), cells.end());

    std::string buf;
    buf.reserve(n - kHeaderSize);
    ByteWriter w(buf);
    // Mode and average in the payload, under the checksum: a flipped bit there is caught.
    w.put<uint8_t>(with_proba_ ? 1 : 0);
    w.put<uint8_t>(static_cast<uint8_t>(average_));
    w.put<uint64_t>(rows_);
    w.put<uint32_t>(uint32_t(s.ids.size()));
    w.put<uint32_t>(uint32_t(cells.size()));
    for (uint32_t id : s.ids) {
        w.put<uint32_t>(uint32_t(names_[id].size()));
        w.bytes(names_[id].data(), names_[id].size());
    }
    for (const auto& [key, c] : cells) {
        w.put<uint32_t>(uint32_t(key >> 32));
        w.put<uint32_t>(uint32_t(key));
        w.put<uint64_t>(c);
    }
    logloss_sum_.encode(w);
    const size_t payload = buf.size();
    if (kHeaderSize + payload != n) fail(ErrorKind::Internal, "class metric state encode size mismatch");
    std::memcpy(out + kHeaderSize, buf.data(), payload);

    std::string header;
    ByteWriter h(header);
    begin_header(kHeader, h);
    h.put<uint8_t>(0);  // flags
    h.put<uint8_t>(0);  // reserved
    h.put<uint64_t>(0);  // payload length, set by seal_header
    h.put<uint64_t>(0);  // checksum, set by seal_header
    std::memcpy(out, header.data(), kHeaderSize);
    seal_header(kHeader, out, n);
}

ClassMetricState ClassMetricState::decode(const uint8_t* p, size_t n) {
    ByteReader r(p, n, "ml_class_metric_state");
    open_header(kHeader, r, n);
    if (r.get<uint8_t>("header") != 0) r.corrupt("unknown flags");
    if (r.get<uint8_t>("header") != 0) r.corrupt("reserved field is not zero");
    verify_header(kHeader, p, n);
    r.take(16, "header");  // payload length and checksum

    const uint8_t proba = r.get<uint8_t>("mode");
    if (proba > 1) r.corrupt("unknown mode " + std::to_string(proba));
    const uint8_t avg = r.get<uint8_t>("average");
    if (avg > 3) r.corrupt("unknown average " + std::to_string(avg));
    ClassMetricState s(proba == 1, static_cast<Average>(avg));
    const uint64_t rows = r.get<uint64_t>("rows");
    const uint32_t nclasses = r.get<uint32_t>("classes");
    const uint32_t ncells = r.get<uint32_t>("cells");
    if (nclasses > kMaxMetricClasses) r.corrupt("more than " + std::to_string(kMaxMetricClasses) + " classes");
    if (r.remaining() < size_t(nclasses) * 4 + size_t(ncells) * 16) r.corrupt("truncated in classes or cells");
    s.names_.reserve(nclasses);
    for (uint32_t i = 0; i < nclasses; i++) {
        const uint32_t len = r.get<uint32_t>("class name");
        const uint8_t* b = r.take(len, "class name");
        std::string name(reinterpret_cast<const char*>(b), len);
        if (name.empty()) r.corrupt("empty class name");
        if (!is_valid_utf8(name)) r.corrupt("class name " + std::to_string(i + 1) + " is not valid UTF-8");
        if (i && !(s.names_.back() < name)) r.corrupt("class names are not strictly ascending");
        s.ids_.emplace(name, i);
        s.names_.push_back(std::move(name));
    }
    s.support_.assign(nclasses, 0);
    s.predicted_.assign(nclasses, 0);
    s.correct_.assign(nclasses, 0);
    if (r.remaining() < size_t(ncells) * 16) r.corrupt("truncated in cells");
    uint64_t prev = 0, total = 0;
    for (uint32_t i = 0; i < ncells; i++) {
        const uint32_t a = r.get<uint32_t>("cells"), q = r.get<uint32_t>("cells");
        const uint64_t c = r.get<uint64_t>("cells");
        if (a >= nclasses || q >= nclasses) r.corrupt("cell names a class that does not exist");
        const uint64_t key = cell_key(a, q);
        if (i && key <= prev) r.corrupt("cells are not strictly ascending");
        if (c == 0) r.corrupt("empty cell");
        if (c > std::numeric_limits<uint64_t>::max() - total) r.corrupt("counts overflow");
        prev = key;
        total += c;
        s.add_cell(a, q, c);
    }
    if (total != rows) r.corrupt("row count does not match the cells");
    s.logloss_sum_ = ExactSum::decode(r);
    r.expect_end();
    s.validate([&](const std::string& why) { r.corrupt(why); });
    return s;
}

// ---- text form -----------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_text(const std::string& why) {
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_class_metric_state: " + why);
}

const json& field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) bad_text(std::string("missing \"") + key + "\"");
    return *it;
}

uint64_t count_field(const json& v, const std::string& what) {
    if (!v.is_number_unsigned()) bad_text("\"" + what + "\" must be a nonnegative integer");
    return v.get<uint64_t>();
}

}  // namespace

std::string ClassMetricState::to_text() const {
    validate([](const std::string& why) { unstorable("ml_class_metric_state", why); });
    const Sorted s = sorted();
    std::vector<uint32_t> rank(names_.size(), 0);
    json classes = json::array();
    for (uint32_t i = 0; i < s.ids.size(); i++) {
        rank[s.ids[i]] = i;
        const std::string& nm = names_[s.ids[i]];
        if (!is_valid_utf8(nm)) fail(ErrorKind::Internal, "class name is not valid UTF-8");
        classes.push_back(nm);
    }
    std::vector<std::pair<uint64_t, uint64_t>> cells;
    for (const auto& [key, c] : cells_) cells.push_back({cell_key(rank[uint32_t(key >> 32)], rank[uint32_t(key)]), c});
    std::sort(cells.begin(), cells.end());
    json cj = json::array();
    for (const auto& [key, c] : cells) cj.push_back(json::array({uint32_t(key >> 32), uint32_t(key), c}));
    json j = {{"version", kVersion}, {"proba", with_proba_}, {"count", rows_}, {"classes", std::move(classes)},
              {"cells", std::move(cj)}, {"logloss_sum", logloss_sum_.to_hex()}};
    if (average_ != Average::None) j["average"] = average_name(average_);
    return j.dump();
}

ClassMetricState ClassMetricState::from_text(const char* p, size_t n) {
    json j = json::parse(p, p + n, nullptr, false);
    if (j.is_discarded()) bad_text("not valid JSON");
    if (!j.is_object()) bad_text("must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
        static const char* const kKeys[] = {"version", "proba", "count", "classes", "cells", "logloss_sum", "average"};
        if (std::none_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return it.key() == k; }))
            bad_text("unknown key " + quote_name(it.key()));
    }
    const json& v = field(j, "version");
    if (!v.is_number_unsigned()) bad_text("\"version\" must be a positive integer");
    if (v.get<uint64_t>() > kVersion)
        bad_text("version " + std::to_string(v.get<uint64_t>()) + " is newer than this pg_learn reads (up to " +
                 std::to_string(kVersion) + ")");
    if (v.get<uint64_t>() != kVersion) bad_text("unsupported version");
    const json& pj = field(j, "proba");
    if (!pj.is_boolean()) bad_text("\"proba\" must be true or false");
    Average avg = Average::None;
    if (auto it = j.find("average"); it != j.end()) {
        if (!it->is_string()) bad_text("\"average\" must be a string");
        avg = parse_average(it->get<std::string>());
    }
    ClassMetricState s(pj.get<bool>(), avg);
    const uint64_t rows = count_field(field(j, "count"), "count");
    const json& cls = field(j, "classes");
    if (!cls.is_array()) bad_text("\"classes\" must be an array of strings");
    if (cls.size() > kMaxMetricClasses)
        fail(ErrorKind::ProgramLimit, "too many classes for a class metric state",
             "the limit is " + std::to_string(kMaxMetricClasses) + " distinct classes");
    auto bad = [](const std::string& why) {
        fail(ErrorKind::InvalidParameter, "invalid ml_class_metric_state: " + why);
    };
    for (size_t i = 0; i < cls.size(); i++) {
        if (!cls[i].is_string()) bad_text("\"classes\" must be an array of strings");
        std::string name = cls[i].get<std::string>();
        check_class(name);
        if (i && !(s.names_.back() < name)) bad("classes are not strictly ascending (byte order)");
        s.ids_.emplace(name, uint32_t(i));
        s.names_.push_back(std::move(name));
    }
    s.support_.assign(cls.size(), 0);
    s.predicted_.assign(cls.size(), 0);
    s.correct_.assign(cls.size(), 0);
    const json& cells = field(j, "cells");
    if (!cells.is_array()) bad_text("\"cells\" must be an array");
    uint64_t prev = 0, total = 0;
    for (size_t i = 0; i < cells.size(); i++) {
        const json& c = cells[i];
        if (!c.is_array() || c.size() != 3) bad_text("each cell must be [actual index, predicted index, count]");
        const uint64_t a = count_field(c[0], "actual index"), q = count_field(c[1], "predicted index");
        const uint64_t cnt = count_field(c[2], "count");
        if (a >= cls.size() || q >= cls.size()) bad("a cell names a class index out of range");
        const uint64_t key = cell_key(uint32_t(a), uint32_t(q));
        if (i && key <= prev) bad("cells are not strictly ascending");
        if (cnt == 0) bad("a cell is empty");
        if (cnt > std::numeric_limits<uint64_t>::max() - total) bad("counts overflow");
        prev = key;
        total += cnt;
        s.add_cell(uint32_t(a), uint32_t(q), cnt);
    }
    if (total != rows) bad("\"count\" does not match the cells");
    const json& ls = field(j, "logloss_sum");
    if (!ls.is_string()) bad_text("\"logloss_sum\" must be an exact sum written as a hex-float string");
    s.logloss_sum_ = ExactSum::from_hex(ls.get<std::string>());
    s.validate(bad);
    return s;
}

bool ClassMetricState::operator==(const ClassMetricState& o) const {
    if (with_proba_ != o.with_proba_ || average_ != o.average_ || rows_ != o.rows_ || ids_.size() != o.ids_.size() ||
        cells_.size() != o.cells_.size() || logloss_sum_ != o.logloss_sum_)
        return false;
    for (const auto& [key, c] : cells_) {
        auto oa = o.ids_.find(names_[uint32_t(key >> 32)]), op = o.ids_.find(names_[uint32_t(key)]);
        if (oa == o.ids_.end() || op == o.ids_.end()) return false;
        auto it = o.cells_.find(cell_key(oa->second, op->second));
        if (it == o.cells_.end() || it->second != c) return false;
    }
    return true;
}

}  // namespace pg_learn::core
