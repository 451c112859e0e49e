// The ml_model binary format (docs/format.md) and its JSON text form, both validated completely.
#include "core/models/linear/linear_model.hpp"

#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <unordered_set>

namespace pg_learn::core {

using nlohmann::json;

static_assert(sizeof(double) == 8, "IEEE doubles expected");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the binary model format is little-endian; big-endian hosts are not supported yet"
#endif

namespace {

constexpr size_t kHeaderSize = kEnvelopeHeaderSize;
constexpr uint16_t kFormatVersion = kModelFormatVersion;

enum SectionTag : uint32_t { kSpec = 1, kState = 2, kNames = 3, kWeights = 4, kOptimizer = 5, kStats = 6, kClasses = 7, kTraining = 8, kBase = 9 };
// The training state's payload: six doubles (docs/format.md).
constexpr size_t kTrainingLength = 48;
// The encoding field of a section header: every section may be dense; the per-weight sections
// (weights, optimizer state, statistics) may instead be sparse.
enum SectionEncoding : uint32_t { kDense = 0, kSparse = 1 };

size_t pad8(size_t n) { return (n + 7) & ~size_t(7); }

// Payload lengths of a per-weight section of k arrays of w doubles, c of whose positions are
// stored in the sparse form (docs/format.md): a count, c u32 positions padded to 8 bytes, then
// the k arrays' values at those positions.
size_t dense_length(size_t k, size_t w) { return 8 * k * w; }
size_t sparse_length(size_t k, size_t c) { return 8 + pad8(4 * c) + 8 * k * c; }
// One model, one encoding: sparse exactly when it is strictly shorter.
bool sparse_is_shorter(size_t k, size_t w, size_t c) { return sparse_length(k, c) < dense_length(k, w); }

uint64_t bits_of(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
}

int optimizer_slots(OptimizerKind k) {
    return k == OptimizerKind::Sgd ? 0 : k == OptimizerKind::AdaGrad ? 1 : 2;
}

[[noreturn]] void corrupt(const std::string& what) {
    fail(ErrorKind::InvalidBinary, "invalid binary ml_model: " + what);
}

class Writer {
public:
    Writer(uint8_t* p, size_t cap) : p_(p), cap_(cap) {}
    void bytes(const void* src, size_t n) {
        if (pos_ + n > cap_) fail(ErrorKind::Internal, "model encoder overran its buffer");
        if (n) std::memcpy(p_ + pos_, src, n);
        pos_ += n;
    }
    template <typename T> void put(T v) { bytes(&v, sizeof v); }
    // The next n bytes, for the caller to fill.
    uint8_t* reserve(size_t n) {
        if (pos_ + n > cap_) fail(ErrorKind::Internal, "model encoder overran its buffer");
        uint8_t* r = p_ + pos_;
        pos_ += n;
        return r;
    }
    void pad() {
        while (pos_ % 8) put<uint8_t>(0);
    }
    size_t pos() const { return pos_; }

private:
    uint8_t* p_;
    size_t cap_;
    size_t pos_ = 0;
};

class Reader {
public:
    Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
    void bytes(void* dst, size_t n, const char* what) {
        if (n > n_ - pos_) corrupt(std::string("truncated in ") + what);
        if (n) std::memcpy(dst, p_ + pos_, n);
        pos_ += n;
    }
    template <typename T> T get(const char* what) {
        T v;
        bytes(&v, sizeof v, what);
        return v;
    }
    const uint8_t* take(size_t n, const char* what) {
        if (n > n_ - pos_) corrupt(std::string("truncated in ") + what);
        const uint8_t* r = p_ + pos_;
        pos_ += n;
        return r;
    }
    size_t remaining() const { return n_ - pos_; }

private:
    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
};

}  // namespace

// Shared by the binary and the JSON decoders: everything a model must satisfy.
struct LinearModelCodec {
    using Bad = std::function<void(const std::string&)>;

    // A per-weight section (weights, optimizer state, statistics): k arrays of W doubles, and
    // the rule every position of its arrays obeys.
    struct ArraySection {
        uint32_t tag;
        const char* name;          // as messages name it
        const char* wrong_length;  // the message for a payload of the wrong length
        std::vector<double>* v[3];
        size_t k;
        size_t n;  // the length of each array
        void (*check)(const LinearModel&, size_t, const Bad&);

        // The sparse form stores position i when some array holds a non-zero bit pattern there
        // (-0.0 too). These loops run on every encode over all 2^hash_bits positions: they read
        // raw pointers (a missing array reads the first again) so that they stay tight.
        const double* array(size_t j) const { return v[j < k ? j : 0]->data(); }
        size_t stored_count(size_t w) const {
            const double *a = array(0), *b = array(1), *c = array(2);
            size_t n = 0;
            for (size_t i = 0; i < w; i++) n += (bits_of(a[i]) | bits_of(b[i]) | bits_of(c[i])) != 0;
            return n;
        }
        template <typename F> void for_each_stored(size_t w, F&& f) const {
            const double *a = array(0), *b = array(1), *c = array(2);
            for (size_t i = 0; i < w; i++)
                if ((bits_of(a[i]) | bits_of(b[i]) | bits_of(c[i])) != 0) f(i);
        }
    };

    static size_t array_sections(const LinearModel& m, ArraySection out[3]);
    static size_t array_length(const ArraySection& s);
    static size_t classes_length(const LinearModel& m);
    static void validate_shape(const LinearModel& m, const Bad& bad);
    static void check_weight(const LinearModel& m, size_t i, const Bad& bad);
    static void check_optimizer(const LinearModel& m, size_t i, const Bad& bad);
    static void check_stats(const LinearModel& m, size_t i, const Bad& bad);
    static void validate(const LinearModel& m, const Bad& bad);
    static void check_training(const LinearModel& m, const Bad& bad);
    static void check_training_state(const LinearModel& m, const LinearModel::TrainingState& t, const char* what,
                                     const Bad& bad);
    // c (u64), c positions (u32, padded to 8 bytes), the c counts, means and m2s, the training state.
    static size_t base_length(const LinearModel& m) {
        const size_t c = m.base_.at.size();
        return 8 + pad8(4 * c) + 24 * c + kTrainingLength;
    }
    static size_t section_count(const LinearModel& m, size_t nsec) {
        return 3 + (m.multi() ? 1 : 0) + nsec + (m.spec_.keeps_training_state() ? 1 : 0) + (m.base_.empty() ? 0 : 1);
    }
    static void encode(const LinearModel& m, uint8_t* out, size_t size);
    static LinearModel decode(const uint8_t* data, size_t size);
    static json to_json(const LinearModel& m);
    static LinearModel from_json(const json& j);
    static size_t size(const LinearModel& m);
};

// The per-weight sections the spec calls for, in their order in the format. (The arrays are
// mutable members: the pointers allow writing, which only decode does.)
size_t LinearModelCodec::array_sections(const LinearModel& m, ArraySection out[3]) {
    // Weights and optimizer state: one value per (feature, output); statistics: one per feature.
    const size_t per_output = m.n_idx_ * m.n_outputs(), per_feature = m.n_idx_;
    size_t n = 0;
    out[n++] = {kWeights, "weights", "weights section has the wrong length", {&m.w_}, 1, per_output, check_weight};
    const int slots = optimizer_slots(m.spec_.optimizer.kind);
    if (slots)
        out[n++] = {kOptimizer, "optimizer state", "optimizer section has the wrong length", {&m.s1_, &m.s2_},
                    size_t(slots), per_output, check_optimizer};
    if (m.spec_.keeps_feature_stats())
        out[n++] = {kStats, "feature statistics", "statistics section has the wrong length",
                    {&m.cnt_, &m.mean_, &m.m2_}, 3, per_feature, check_stats};
    return n;
}

size_t LinearModelCodec::array_length(const ArraySection& s) {
    const size_t c = s.stored_count(s.n);
    return sparse_is_shorter(s.k, s.n, c) ? sparse_length(s.k, c) : dense_length(s.k, s.n);
}

void LinearModelCodec::validate_shape(const LinearModel& m, const Bad& bad) {
    const ModelSpec& s = m.spec_;
    // nw: feature indices, each with K = n_outputs() weights (one for all kinds but softmax).
    const size_t nw = s.hashed() ? size_t(1) << s.hash_bits : m.dict_.names().size();
    const size_t k = m.n_outputs();
    if (m.n_idx_ != nw) bad("the number of weights differs from the number of features");
    if (m.multi()) {
        if (m.classes_.size() > kMaxClasses) bad("too many classes");
        if (m.b_.size() != k) bad("intercepts do not match the classes");
        std::unordered_set<std::string_view> classes;
        for (size_t c = 0; c < k; c++) {
            const auto& nm = m.classes_[c];
            if (nm.empty() || nm.size() > kMaxClassNameBytes) bad("class " + std::to_string(c + 1) + " is empty or too long");
            if (utf8_invalid_offset(nm) != nm.size() || nm.find('\0') != std::string::npos)
                bad("class " + std::to_string(c + 1) + " is not valid UTF-8 text");
            if (!classes.insert(nm).second) bad("class \"" + message_name(nm) + "\" appears twice");
            if (!std::isfinite(m.b_[c])) bad("intercept is not finite");
        }
        if (m.class_index_.size() != k) bad("class index does not match the classes");
    } else if (!m.b_.empty() || !m.classes_.empty()) {
        bad("only a softmax_regression has classes");
    }
    if (m.w_.size() != nw * k) {
        if (s.hashed()) bad("a hashed model must have 2^hash_bits weights");
        if (m.dict_.names().size() > kMaxRememberedNames) bad("too many remembered feature names");
        bad("the number of weights differs from the number of features");
    }
    if (s.hashed()) {
        if (m.dict_.names().size() > kMaxRememberedNames) bad("too many remembered feature names");
    } else if (nw > kMaxFeatures) {
        bad("too many features");
    }
    if (m.dict_.types().size() != m.dict_.names().size()) bad("feature types do not match feature names");
    if (m.dense_dim_ > kMaxFeatures) bad("dense dimension out of range");
    if (m.agg_base_ > m.n_seen_) bad("aggregation base exceeds examples seen");
    if (!std::isfinite(m.intercept_)) bad("intercept is not finite");
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < m.dict_.names().size(); i++) {
        const auto& nm = m.dict_.names()[i];
        if (nm.size() > kMaxFeatureNameBytes) bad("feature name too long");
        // ml_model_out and ml_info print names as JSON strings, which must be UTF-8; no
        // PostgreSQL text holds a NUL byte, so no real feature is named with one.
        if (size_t at = utf8_invalid_offset(nm); at != nm.size())
            bad("feature name " + std::to_string(i + 1) + " is not valid UTF-8 (byte " + std::to_string(at + 1) +
                " of " + std::to_string(nm.size()) + ")");
        if (nm.find('\0') != std::string::npos) bad("feature name " + std::to_string(i + 1) + " contains a NUL byte");
        if (m.dict_.types()[i] > 1) bad("unknown feature type");
        if (!seen.insert(nm).second) bad("feature \"" + message_name(nm) + "\" appears twice");
    }
    int slots = optimizer_slots(s.optimizer.kind);
    if (m.s1_.size() != (slots >= 1 ? nw * k : 0) || m.s2_.size() != (slots >= 2 ? nw * k : 0))
        bad("optimizer state does not match the optimizer and the number of weights");
    const size_t ns = s.keeps_feature_stats() ? nw : 0;
    if (m.cnt_.size() != ns || m.mean_.size() != ns || m.m2_.size() != ns)
        bad("feature statistics do not match the spec and the number of weights");
    check_training(m, bad);
}

// The training state: what learning can produce (docs/format.md, section 8).
void LinearModelCodec::check_training(const LinearModel& m, const Bad& bad) {
    check_training_state(m, m.ts_, "training state", bad);
    const auto& b = m.base_;
    if (b.empty()) return;
    if (m.agg_base_ == 0) bad("a model outside an aggregate has an aggregation base");
    const size_t c = b.at.size();
    if (b.cnt.size() != c || b.mean.size() != c || b.m2.size() != c) bad("aggregation base arrays differ in length");
    if (c && !m.spec_.keeps_feature_stats()) bad("aggregation base statistics do not match the model");
    for (size_t i = 0; i < c; i++) {
        if (b.at[i] >= m.cnt_.size() || (i > 0 && b.at[i] <= b.at[i - 1]))
            bad("aggregation base positions are not increasing within the model");
        const double n = b.cnt[i];
        if (!std::isfinite(n) || n <= 0 || n != std::floor(n) || !std::isfinite(b.mean[i]) || !std::isfinite(b.m2[i]) ||
            b.m2[i] < 0)
            bad("aggregation base statistics are out of range");
    }
    check_training_state(m, b.ts, "aggregation base", bad);
}

void LinearModelCodec::check_training_state(const LinearModel& m, const LinearModel::TrainingState& t,
                                            const char* what, const Bad& bad) {
    const ModelSpec& s = m.spec_;
    const std::string w = what;
    for (double v : {t.y_count, t.y_mean, t.y_m2, t.loss_count, t.loss_mean, t.loss_recent})
        if (!std::isfinite(v)) bad(w + " is not finite");
    const bool labels = s.keeps_training_state() && s.kind == ModelKind::LinearRegression;
    if (t.y_count < 0 || t.y_count != std::floor(t.y_count) || t.y_m2 < 0 ||
        (t.y_count == 0 && (t.y_mean != 0 || t.y_m2 != 0)) || (!labels && t.y_count != 0))
        bad("label statistics of the " + w + " are out of range");
    if (t.loss_count < 0 || t.loss_count != std::floor(t.loss_count) || t.loss_mean < 0 || t.loss_recent < 0 ||
        (t.loss_count == 0 && (t.loss_mean != 0 || t.loss_recent != 0)) || (!s.check_divergence && t.loss_count != 0))
        bad("training loss of the " + w + " is out of range");
}

// The rules of one position of each per-weight section. A position whose values are all zero
// obeys them (a zero weight or state is finite and not negative; a zero count has zero mean and
// m2), so the positions a sparse section leaves out need no check.
void LinearModelCodec::check_weight(const LinearModel& m, size_t i, const Bad& bad) {
    if (!std::isfinite(m.w_[i])) bad("weight " + std::to_string(i) + " is not finite");
}

void LinearModelCodec::check_optimizer(const LinearModel& m, size_t i, const Bad& bad) {
    const OptimizerKind kind = m.spec_.optimizer.kind;
    if (!std::isfinite(m.s1_[i])) bad("optimizer state is not finite");
    if (kind == OptimizerKind::AdaGrad && m.s1_[i] < 0) bad("AdaGrad accumulator is negative");
    if (kind == OptimizerKind::Adam || kind == OptimizerKind::Ftrl) {
        if (!std::isfinite(m.s2_[i])) bad("optimizer state is not finite");
        if (m.s2_[i] < 0) bad("optimizer second-moment state is negative");
    }
}

void LinearModelCodec::check_stats(const LinearModel& m, size_t i, const Bad& bad) {
    const double c = m.cnt_[i];
    if (!std::isfinite(c) || c < 0 || c != std::floor(c)) bad("feature count is not a whole number");
    if (!std::isfinite(m.mean_[i]) || !std::isfinite(m.m2_[i]) || m.m2_[i] < 0)
        bad("feature statistics are not finite");
    if (c == 0 && (m.mean_[i] != 0 || m.m2_[i] != 0)) bad("statistics of an unseen feature are not zero");
}

void LinearModelCodec::validate(const LinearModel& m, const Bad& bad) {
    validate_shape(m, bad);
    ArraySection secs[3];
    const size_t nsec = array_sections(m, secs);
    for (size_t s = 0; s < nsec; s++)
        for (size_t i = 0; i < secs[s].n; i++) secs[s].check(m, i, bad);
}

// The classes section of a softmax regression: the class count, one intercept per class, then
// each class's name (its length, then its bytes).
size_t LinearModelCodec::classes_length(const LinearModel& m) {
    size_t n = 8 + 8 * m.classes_.size();
    for (const auto& c : m.classes_) n += 4 + c.size();
    return n;
}

size_t LinearModelCodec::size(const LinearModel& m) {
    size_t n = kHeaderSize;
    const size_t sh = 16;  // section header
    n += sh + pad8(m.spec_.canonical_text().size());
    n += sh + 32;
    size_t names = 0;
    for (const auto& nm : m.dict_.names()) names += 5 + nm.size();
    n += sh + pad8(names);
    ArraySection secs[3];
    const size_t nsec = array_sections(m, secs);
    if (m.multi()) n += sh + pad8(classes_length(m));
    for (size_t s = 0; s < nsec; s++) n += sh + array_length(secs[s]);
    if (m.spec_.keeps_training_state()) n += sh + kTrainingLength;
    if (!m.base_.empty()) n += sh + base_length(m);
    if (n > kMaxModelBytes)
        fail(ErrorKind::ProgramLimit, "model is too large to store",
             "it needs " + std::to_string(n) + " bytes; the limit is " + std::to_string(kMaxModelBytes),
             "Use fewer hash_bits or fewer distinct features.");
    return n;
}

void LinearModelCodec::encode(const LinearModel& m, uint8_t* out, size_t size) {
    // The decoders' own check (binary and JSON): never write what they refuse.
    validate(m, [](const std::string& why) { unstorable("ml_model", why); });
    Writer w(out, size);
    const std::string spec = m.spec_.canonical_text();
    ArraySection secs[3];
    const size_t nsec = array_sections(m, secs);
    const size_t nw = m.n_idx_;

    EnvelopeHeader h{kFormatVersion, static_cast<uint16_t>(m.spec_.kind), m.identity_, m.updates_, m.n_seen_, 0,
                     static_cast<uint32_t>(section_count(m, nsec)), static_cast<uint32_t>(size)};
    write_envelope(w.reserve(kHeaderSize), h);

    auto section = [&](uint32_t tag, SectionEncoding encoding, uint64_t len) {
        w.put<uint32_t>(tag);
        w.put<uint32_t>(encoding);
        w.put<uint64_t>(len);
    };

    section(kSpec, kDense, spec.size());
    w.bytes(spec.data(), spec.size());
    w.pad();
    section(kState, kDense, 32);
    w.put<uint64_t>(m.agg_base_);
    w.put<uint32_t>(m.dense_dim_);
    w.put<uint32_t>(static_cast<uint32_t>(m.dict_.names().size()));
    w.put<uint64_t>(nw);
    w.put<double>(m.intercept_);
    size_t names = 0;
    for (const auto& nm : m.dict_.names()) names += 5 + nm.size();
    section(kNames, kDense, names);
    for (size_t i = 0; i < m.dict_.names().size(); i++) {
        w.put<uint32_t>(static_cast<uint32_t>(m.dict_.names()[i].size()));
        w.put<uint8_t>(m.dict_.types()[i]);
        w.bytes(m.dict_.names()[i].data(), m.dict_.names()[i].size());
    }
    w.pad();
    if (m.multi()) {
        section(kClasses, kDense, classes_length(m));
        w.put<uint64_t>(m.classes_.size());
        for (double b : m.b_) w.put<double>(b);
        for (const auto& c : m.classes_) {
            w.put<uint32_t>(static_cast<uint32_t>(c.size()));
            w.bytes(c.data(), c.size());
        }
        w.pad();
    }
    for (size_t s = 0; s < nsec; s++) {
        const ArraySection& a = secs[s];
        const size_t n = a.n;
        const size_t c = a.stored_count(n);
        if (!sparse_is_shorter(a.k, n, c)) {
            section(a.tag, kDense, dense_length(a.k, n));
            for (size_t j = 0; j < a.k; j++) w.bytes(a.v[j]->data(), 8 * n);
            continue;
        }
        // The count, the positions (then 4 zero bytes when the count is odd), and the k arrays'
        // values at those positions, array after array: written in one pass over the weights.
        section(a.tag, kSparse, sparse_length(a.k, c));
        w.put<uint64_t>(c);
        uint8_t* index = w.reserve(pad8(4 * c));
        std::memset(index + 4 * c, 0, pad8(4 * c) - 4 * c);
        uint8_t* values = w.reserve(8 * a.k * c);
        size_t r = 0;
        a.for_each_stored(n, [&](size_t i) {
            if (r == c) return;  // cannot happen: c counted these very positions
            const uint32_t at = static_cast<uint32_t>(i);
            std::memcpy(index + 4 * r, &at, 4);
            for (size_t j = 0; j < a.k; j++) std::memcpy(values + 8 * (j * c + r), a.array(j) + i, 8);
            r++;
        });
        if (r != c) fail(ErrorKind::Internal, "model encoder miscounted a sparse section");
    }
    if (m.spec_.keeps_training_state()) {
        const LinearModel::TrainingState& t = m.ts_;
        section(kTraining, kDense, kTrainingLength);
        for (double v : {t.y_count, t.y_mean, t.y_m2, t.loss_count, t.loss_mean, t.loss_recent}) w.put<double>(v);
    }
    if (!m.base_.empty()) {
        const auto& b = m.base_;
        section(kBase, kDense, base_length(m));
        const size_t c = b.at.size();
        w.put<uint64_t>(c);
        for (uint32_t at : b.at) w.put<uint32_t>(at);
        if (c % 2) w.put<uint32_t>(0);
        for (const auto* v : {&b.cnt, &b.mean, &b.m2})
            if (!v->empty()) w.bytes(v->data(), 8 * v->size());
        for (double v : {b.ts.y_count, b.ts.y_mean, b.ts.y_m2, b.ts.loss_count, b.ts.loss_mean, b.ts.loss_recent})
            w.put<double>(v);
    }
    if (w.pos() != size) fail(ErrorKind::Internal, "model encoder size mismatch");
    seal_envelope(out, size);
}

LinearModel LinearModelCodec::decode(const uint8_t* data, size_t size) {
    const EnvelopeHeader h = read_envelope(data, size, "ml_model");
    const uint16_t kind = h.kind;
    if (kind != uint16_t(ModelKind::LinearRegression) && kind != uint16_t(ModelKind::LogisticRegression) &&
        kind != uint16_t(ModelKind::SoftmaxRegression))
        corrupt("unknown model kind " + std::to_string(kind));
    const uint64_t identity = h.identity, updates = h.updates, n_seen = h.n_seen;
    const uint32_t nsections = h.sections;
    Reader r(data, size);
    r.take(kHeaderSize, "header");

    struct Section {
        const uint8_t* p;
        uint64_t len;
        uint32_t encoding;
    };
    auto section = [&](uint32_t want, const char* what, bool per_weight) -> Section {
        auto tag = r.get<uint32_t>(what);
        auto encoding = r.get<uint32_t>(what);
        auto len = r.get<uint64_t>(what);
        if (tag != want) corrupt(std::string("expected section ") + what);
        if (!per_weight && encoding != kDense)
            corrupt(std::string("encoding field of section ") + what + " is not zero");
        if (encoding > kSparse)
            corrupt("unknown encoding " + std::to_string(encoding) + " of section " + what);
        if (len > r.remaining()) corrupt(std::string("truncated in ") + what);
        const uint8_t* p = r.take(len, what);
        // One model, one encoding: the padding is zeros, as the encoder writes it.
        const uint8_t* pad = r.take(pad8(len) - len, what);
        for (size_t i = 0; i < pad8(len) - len; i++)
            if (pad[i] != 0) corrupt(std::string("padding of section ") + what + " is not zero");
        return {p, len, encoding};
    };

    auto spec_sec = section(kSpec, "spec", false);
    const std::string_view spec_text(reinterpret_cast<const char*>(spec_sec.p), spec_sec.len);
    // The spec text last decoded, with its checked form and identity: the thousand partitions of
    // a partitioned model (an ensemble's members) store one spec, and its JSON parse and
    // canonical form were most of a small model's decode. (One per process: a backend decodes
    // on one thread.) It is remembered only once it passed every check below.
    struct SpecMemo {
        bool valid = false;
        uint16_t kind = 0;
        std::string text;
        ModelSpec spec;
        uint64_t identity = 0;
    };
    static SpecMemo memo;
    if (!memo.valid || memo.kind != kind || memo.text != spec_text) {
        memo.valid = false;
        json sj = json::parse(spec_text.begin(), spec_text.end(), nullptr, false);
        if (sj.is_discarded()) corrupt("spec is not valid JSON");
        ModelSpec spec;
        try {
            spec = ModelSpec::from_json(sj, SpecDefaults::Stored);
        } catch (const Error& e) {
            corrupt(std::string("bad spec: ") + e.what());
        }
        if (uint16_t(spec.kind) != kind) corrupt("model kind differs from the spec");
        const std::string canon = spec.canonical_text();
        if (canon != spec_text) corrupt("spec is not in canonical form");
        memo.kind = kind;
        memo.text.assign(spec_text);
        memo.spec = std::move(spec);
        memo.identity = LinearModel::identity_of(canon);
        memo.valid = true;
    }
    // A hashed spec's fresh model already holds its 2^hash_bits zeros in every array: the
    // sections below fill those arrays in place, so each array is allocated and zeroed once.
    LinearModel m(memo.spec, memo.identity);
    if (m.identity_ != identity) corrupt("identity does not match the spec");
    m.updates_ = updates;
    m.n_seen_ = n_seen;

    auto st_sec = section(kState, "state", false);
    if (st_sec.len != 32) corrupt("state section has the wrong length");
    Reader st(st_sec.p, st_sec.len);
    m.agg_base_ = st.get<uint64_t>("state");
    m.dense_dim_ = st.get<uint32_t>("state");
    auto n_names = st.get<uint32_t>("state");
    auto n_weights = st.get<uint64_t>("state");
    m.intercept_ = st.get<double>("state");
    const size_t expect_w = m.spec_.hashed() ? (size_t(1) << m.spec_.hash_bits) : n_names;
    if (n_weights != expect_w) corrupt("weight count does not match the features");
    if (n_names > size / 5) corrupt("feature count out of range");
    const size_t nw = n_weights;

    auto nm_sec = section(kNames, "names", false);
    Reader nr(nm_sec.p, nm_sec.len);
    {
        std::vector<std::string> names;
        std::vector<uint8_t> types;
        names.reserve(n_names);
        for (uint32_t i = 0; i < n_names; i++) {
            auto len = nr.get<uint32_t>("names");
            auto type = nr.get<uint8_t>("names");
            if (len > kMaxFeatureNameBytes) corrupt("feature name too long");
            const uint8_t* p = nr.take(len, "names");
            names.emplace_back(reinterpret_cast<const char*>(p), len);
            types.push_back(type);
        }
        if (nr.remaining() != 0) corrupt("trailing bytes in names");
        m.dict_.assign(std::move(names), std::move(types));  // validated with the rest below
    }

    if (m.multi()) {
        auto cl_sec = section(kClasses, "classes", false);
        Reader cr(cl_sec.p, cl_sec.len);
        const auto k = cr.get<uint64_t>("classes");
        if (k > kMaxClasses) corrupt("too many classes");
        for (uint64_t c = 0; c < k; c++) m.b_.push_back(cr.get<double>("classes"));
        for (uint64_t c = 0; c < k; c++) {
            auto len = cr.get<uint32_t>("classes");
            if (len > kMaxClassNameBytes) corrupt("class name too long");
            const uint8_t* p = cr.take(len, "classes");
            m.classes_.emplace_back(reinterpret_cast<const char*>(p), len);
            m.class_index_.emplace(m.classes_.back(), static_cast<uint32_t>(c));
        }
        if (cr.remaining() != 0) corrupt("trailing bytes in classes");
    }
    m.n_idx_ = nw;

    ArraySection secs[3];
    const size_t nsec = array_sections(m, secs);
    struct Stored {
        bool sparse;
        const uint8_t* index;  // the sparse form's positions, kept for the value checks below
        size_t count;
    };
    Stored stored[3] = {};
    for (size_t s = 0; s < nsec; s++) {
        const ArraySection& a = secs[s];
        const std::string name = a.name;
        const size_t n = a.n;
        const auto [p, len, encoding] = section(a.tag, a.name, true);
        for (size_t j = 0; j < a.k; j++)
            if (a.v[j]->size() != n) a.v[j]->assign(n, 0.0);
        if (encoding == kDense) {
            if (len != dense_length(a.k, n)) corrupt(a.wrong_length);
            for (size_t j = 0; j < a.k && n; j++) std::memcpy(a.v[j]->data(), p + 8 * n * j, 8 * n);
            if (sparse_is_shorter(a.k, n, a.stored_count(n)))
                corrupt(name + " section is dense, but its sparse form is shorter");
            continue;
        }
        if (len < 8) corrupt(a.wrong_length);
        uint64_t c;
        std::memcpy(&c, p, 8);
        if (c > n)
            corrupt("sparse " + name + " section stores " + std::to_string(c) + " positions of " + std::to_string(n));
        if (len != sparse_length(a.k, c)) corrupt(a.wrong_length);
        if (!sparse_is_shorter(a.k, n, c)) corrupt(name + " section is sparse, but its dense form is not longer");
        const uint8_t* index = p + 8;
        const uint8_t* values = index + pad8(4 * c);
        for (size_t b = 4 * c; b < pad8(4 * c); b++)
            if (index[b] != 0) corrupt("padding of the positions of the " + name + " section is not zero");
        uint32_t prev = 0;
        for (size_t i = 0; i < c; i++) {
            uint32_t at;
            std::memcpy(&at, index + 4 * i, 4);
            if (at >= n)
                corrupt("sparse " + name + " section: position " + std::to_string(at) + " is out of range");
            if (i > 0 && at <= prev) corrupt("sparse " + name + " section: positions are not strictly increasing");
            prev = at;
            uint64_t any = 0;
            for (size_t j = 0; j < a.k; j++) {
                double v;
                std::memcpy(&v, values + 8 * (j * c + i), 8);
                any |= bits_of(v);
                (*a.v[j])[at] = v;
            }
            if (any == 0)
                corrupt("sparse " + name + " section stores zeros at position " + std::to_string(at));
        }
        stored[s] = {true, index, c};
    }
    if (m.spec_.keeps_training_state()) {
        auto t_sec = section(kTraining, "training state", false);
        if (t_sec.len != kTrainingLength) corrupt("training state section has the wrong length");
        Reader tr(t_sec.p, t_sec.len);
        LinearModel::TrainingState& t = m.ts_;
        for (double* v : {&t.y_count, &t.y_mean, &t.y_m2, &t.loss_count, &t.loss_mean, &t.loss_recent})
            *v = tr.get<double>("training state");
    }
    if (nsections > section_count(m, nsec)) {
        auto b_sec = section(kBase, "aggregation base", false);
        Reader br(b_sec.p, b_sec.len);
        const auto n = br.get<uint64_t>("aggregation base");
        if (n > m.n_idx_ || b_sec.len != 8 + pad8(4 * n) + 24 * n + kTrainingLength)
            corrupt("aggregation base section has the wrong length");
        auto& b = m.base_;
        b.at.resize(n);
        for (size_t i = 0; i < n; i++) b.at[i] = br.get<uint32_t>("aggregation base");
        if (n % 2 && br.get<uint32_t>("aggregation base") != 0) corrupt("padding of the aggregation base is not zero");
        for (auto* v : {&b.cnt, &b.mean, &b.m2}) {
            v->resize(n);
            for (size_t i = 0; i < n; i++) (*v)[i] = br.get<double>("aggregation base");
        }
        for (double* v : {&b.ts.y_count, &b.ts.y_mean, &b.ts.y_m2, &b.ts.loss_count, &b.ts.loss_mean, &b.ts.loss_recent})
            *v = br.get<double>("aggregation base");
        if (b.empty()) corrupt("aggregation base section is empty");
    }
    if (nsections != section_count(m, nsec)) corrupt("wrong number of sections");
    if (r.remaining() != 0) corrupt("trailing bytes after the last section");

    const Bad bad = [](const std::string& what) { corrupt(what); };
    validate_shape(m, bad);
    // The value rules: at every position of a dense section, at the stored ones of a sparse one.
    for (size_t s = 0; s < nsec; s++) {
        if (!stored[s].sparse) {
            for (size_t i = 0; i < secs[s].n; i++) secs[s].check(m, i, bad);
            continue;
        }
        for (size_t i = 0; i < stored[s].count; i++) {
            uint32_t at;
            std::memcpy(&at, stored[s].index + 4 * i, 4);
            secs[s].check(m, at, bad);
        }
    }
    return m;
}

json LinearModelCodec::to_json(const LinearModel& m) {
    validate(m, [](const std::string& why) { unstorable("ml_model", why); });
    char id[17];
    snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(m.identity_));
    json types = json::array();
    for (auto t : m.dict_.types()) types.push_back(t == 0 ? "numeric" : "categorical");
    json j = {{"pg_learn_model", kFormatVersion},
              {"kind", model_kind_name(m.spec_.kind)},
              {"spec", m.spec_.to_json()},
              {"identity", id},
              {"updates", m.updates_},
              {"n_seen", m.n_seen_},
              {"aggregation_base", m.agg_base_},
              {"dense_dim", m.dense_dim_},
              {"intercept", m.intercept_},
              {"features", m.dict_.names()},
              {"feature_types", types},
              {"weights", m.w_}};
    if (m.multi()) {
        // Weights and optimizer state are feature-major: the K values of feature 1, then of 2...
        j["classes"] = m.classes_;
        j["intercepts"] = m.b_;
    }
    switch (m.spec_.optimizer.kind) {
        case OptimizerKind::Sgd: break;
        case OptimizerKind::AdaGrad: j["optimizer_state"] = {{"g2", m.s1_}}; break;
        case OptimizerKind::Adam: j["optimizer_state"] = {{"m", m.s1_}, {"v", m.s2_}}; break;
        case OptimizerKind::Ftrl: j["optimizer_state"] = {{"z", m.s1_}, {"n", m.s2_}}; break;
    }
    if (m.spec_.keeps_feature_stats())
        j["feature_stats"] = {{"count", m.cnt_}, {"mean", m.mean_}, {"m2", m.m2_}};
    if (m.spec_.keeps_training_state()) {
        const LinearModel::TrainingState& t = m.ts_;
        j["training_state"] = {{"label_count", t.y_count}, {"label_mean", t.y_mean}, {"label_m2", t.y_m2},
                               {"loss_count", t.loss_count}, {"loss_mean", t.loss_mean},
                               {"loss_recent", t.loss_recent}};
    }
    if (!m.base_.empty()) {
        const auto& b = m.base_;
        j["aggregation_base_state"] = {{"positions", b.at}, {"count", b.cnt}, {"mean", b.mean}, {"m2", b.m2},
                                       {"training_state", {b.ts.y_count, b.ts.y_mean, b.ts.y_m2, b.ts.loss_count,
                                                           b.ts.loss_mean, b.ts.loss_recent}}};
    }
    return j;
}

LinearModel LinearModelCodec::from_json(const json& j) {
    auto bad = [](const std::string& what) {
        fail(ErrorKind::InvalidParameter, "invalid ml_model: " + what);
    };
    static const char* known[] = {"pg_learn_model", "kind", "spec", "identity", "updates", "n_seen",
                                  "aggregation_base", "dense_dim", "intercept", "features",
                                  "feature_types", "weights", "optimizer_state", "feature_stats",
                                  "classes", "intercepts", "training_state", "aggregation_base_state"};
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) bad("unknown key \"" + it.key() + "\"");
    }
    auto need = [&](const char* key) -> const json& {
        auto it = j.find(key);
        if (it == j.end()) bad(std::string("missing key \"") + key + "\"");
        return *it;
    };
    auto u64 = [&](const char* key) -> uint64_t {
        const json& v = need(key);
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            bad(std::string("\"") + key + "\" must be a non-negative integer");
        return v.get<uint64_t>();
    };
    auto num = [&](const json& v, const std::string& what) -> double {
        if (!v.is_number()) bad(what + " must be a number");
        return v.get<double>();
    };
    auto vec = [&](const json& v, const std::string& what) {
        if (!v.is_array()) bad(what + " must be an array of numbers");
        std::vector<double> out;
        out.reserve(v.size());
        for (const auto& x : v) out.push_back(num(x, what));
        return out;
    };
    auto obj = [&](const json& v, const char* what, std::initializer_list<const char*> keys) {
        if (!v.is_object() || v.size() != keys.size()) bad(std::string(what) + " has the wrong shape");
        for (const char* k : keys)
            if (!v.contains(k)) bad(std::string(what) + " lacks \"" + k + "\"");
    };

    const json& ver = need("pg_learn_model");
    if (!ver.is_number_integer() || ver.get<int64_t>() != kFormatVersion)
        bad("unsupported format version " + ver.dump());
    ModelSpec spec = ModelSpec::from_json(need("spec"), SpecDefaults::Stored);
    const json& kind = need("kind");
    if (!kind.is_string() || kind.get<std::string>() != model_kind_name(spec.kind))
        bad("\"kind\" does not match the spec");
    LinearModel m(spec);
    if (auto it = j.find("identity"); it != j.end()) {
        char id[17];
        snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(m.identity_));
        if (!it->is_string() || it->get<std::string>() != id) bad("\"identity\" does not match the spec");
    }
    m.updates_ = u64("updates");
    m.n_seen_ = u64("n_seen");
    m.agg_base_ = j.contains("aggregation_base") ? u64("aggregation_base") : 0;
    uint64_t dd = u64("dense_dim");
    if (dd > kMaxFeatures) bad("\"dense_dim\" out of range");
    m.dense_dim_ = static_cast<uint32_t>(dd);
    m.intercept_ = num(need("intercept"), "\"intercept\"");
    const json& names = need("features");
    const json& types = need("feature_types");
    if (!names.is_array() || !types.is_array() || names.size() != types.size())
        bad("\"features\" and \"feature_types\" must be arrays of the same length");
    std::vector<std::string> dict_names;
    std::vector<uint8_t> dict_types;
    for (size_t i = 0; i < names.size(); i++) {
        if (!names[i].is_string()) bad("feature names must be strings");
        if (!types[i].is_string()) bad("feature types must be strings");
        // Parsed JSON text is UTF-8 already (the parser checks it); a json built in memory
        // may hold any bytes.
        if (!is_valid_utf8(names[i].get_ref<const std::string&>()))
            fail(ErrorKind::InvalidText, "invalid ml_model: feature name " + std::to_string(i + 1) +
                                             " is not valid UTF-8");
        const auto t = types[i].get<std::string>();
        if (t != "numeric" && t != "categorical") bad("unknown feature type \"" + t + "\"");
        dict_names.push_back(names[i].get<std::string>());
        dict_types.push_back(t == "numeric" ? 0 : 1);
    }
    m.dict_.assign(std::move(dict_names), std::move(dict_types));  // validated with the rest below
    if (m.multi()) {
        const json& classes = need("classes");
        if (!classes.is_array() || classes.size() > kMaxClasses) bad("\"classes\" must be an array of class names");
        m.b_ = vec(need("intercepts"), "\"intercepts\"");
        if (m.b_.size() != classes.size()) bad("\"intercepts\" must have one number per class");
        for (size_t c = 0; c < classes.size(); c++) {
            if (!classes[c].is_string()) bad("class names must be strings");
            m.classes_.push_back(classes[c].get<std::string>());
            m.class_index_.emplace(m.classes_.back(), static_cast<uint32_t>(c));
        }
    } else if (j.contains("classes") || j.contains("intercepts")) {
        bad("only a softmax_regression has \"classes\" and \"intercepts\"");
    }
    m.n_idx_ = spec.hashed() ? size_t(1) << spec.hash_bits : m.dict_.names().size();
    m.w_ = vec(need("weights"), "\"weights\"");
    m.s1_.clear();
    m.s2_.clear();
    const json* os = j.contains("optimizer_state") ? &j["optimizer_state"] : nullptr;
    switch (spec.optimizer.kind) {
        case OptimizerKind::Sgd:
            if (os) bad("the sgd optimizer has no \"optimizer_state\"");
            break;
        case OptimizerKind::AdaGrad:
            if (!os) bad("missing key \"optimizer_state\"");
            obj(*os, "\"optimizer_state\"", {"g2"});
            m.s1_ = vec((*os)["g2"], "optimizer state");
            break;
        case OptimizerKind::Adam:
            if (!os) bad("missing key \"optimizer_state\"");
            obj(*os, "\"optimizer_state\"", {"m", "v"});
            m.s1_ = vec((*os)["m"], "optimizer state");
            m.s2_ = vec((*os)["v"], "optimizer state");
            break;
        case OptimizerKind::Ftrl:
            if (!os) bad("missing key \"optimizer_state\"");
            obj(*os, "\"optimizer_state\"", {"z", "n"});
            m.s1_ = vec((*os)["z"], "optimizer state");
            m.s2_ = vec((*os)["n"], "optimizer state");
            break;
    }
    m.cnt_.clear();
    m.mean_.clear();
    m.m2_.clear();
    if (spec.keeps_feature_stats()) {
        if (!j.contains("feature_stats")) bad("missing key \"feature_stats\"");
        const json& fs = j["feature_stats"];
        obj(fs, "\"feature_stats\"", {"count", "mean", "m2"});
        m.cnt_ = vec(fs["count"], "feature statistics");
        m.mean_ = vec(fs["mean"], "feature statistics");
        m.m2_ = vec(fs["m2"], "feature statistics");
    } else if (j.contains("feature_stats")) {
        bad("\"feature_stats\" given but the spec neither scales nor imputes means");
    }
    if (spec.keeps_training_state()) {
        const json& ts = need("training_state");
        obj(ts, "\"training_state\"", {"label_count", "label_mean", "label_m2", "loss_count", "loss_mean", "loss_recent"});
        LinearModel::TrainingState& t = m.ts_;
        t.y_count = num(ts["label_count"], "training state");
        t.y_mean = num(ts["label_mean"], "training state");
        t.y_m2 = num(ts["label_m2"], "training state");
        t.loss_count = num(ts["loss_count"], "training state");
        t.loss_mean = num(ts["loss_mean"], "training state");
        t.loss_recent = num(ts["loss_recent"], "training state");
    } else if (j.contains("training_state")) {
        bad("\"training_state\" given but the spec neither scales the label nor checks divergence");
    }
    if (j.contains("aggregation_base_state")) {
        const json& bs = j["aggregation_base_state"];
        obj(bs, "\"aggregation_base_state\"", {"positions", "count", "mean", "m2", "training_state"});
        auto& b = m.base_;
        const json& pos = bs["positions"];
        if (!pos.is_array()) bad("aggregation base positions must be an array");
        for (const auto& p : pos) {
            if (!p.is_number_unsigned() || p.get<uint64_t>() > UINT32_MAX) bad("aggregation base positions must be whole numbers");
            b.at.push_back(static_cast<uint32_t>(p.get<uint64_t>()));
        }
        b.cnt = vec(bs["count"], "aggregation base");
        b.mean = vec(bs["mean"], "aggregation base");
        b.m2 = vec(bs["m2"], "aggregation base");
        const std::vector<double> t = vec(bs["training_state"], "aggregation base");
        if (t.size() != 6) bad("aggregation base training state must have 6 numbers");
        b.ts = {t[0], t[1], t[2], t[3], t[4], t[5]};
        if (b.empty()) bad("\"aggregation_base_state\" is empty");
    }
    validate(m, bad);
    size(m);  // enforces the size limit
    return m;
}

size_t LinearModel::encoded_size() const { return LinearModelCodec::size(*this); }
void LinearModel::encode(uint8_t* out, size_t size) const { LinearModelCodec::encode(*this, out, size); }
LinearModel LinearModel::decode(const uint8_t* data, size_t size) { return LinearModelCodec::decode(data, size); }
json LinearModel::to_json() const { return LinearModelCodec::to_json(*this); }
LinearModel LinearModel::from_json(const json& j) {
    if (!j.is_object())
        fail(ErrorKind::InvalidParameter, std::string("ml_model text must be a JSON object, not ") + j.type_name());
    if (!j.contains("pg_learn_model")) return LinearModel(ModelSpec::from_json(j));
    return LinearModelCodec::from_json(j);
}

LinearModel LinearModel::from_text(const char* text, size_t len) {
    check_json_depth(text, len, 32, "ml_model");
    json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded()) {
        // The contract's reader explains why (model_from_text).
        model_from_text(text, len);
        fail(ErrorKind::InvalidText, "invalid input syntax for type ml_model: not valid JSON");
    }
    return from_json(j);
}

// ---- the linear family's kinds, for models/families.cpp --------------------------------------

namespace {

std::unique_ptr<Model> linear_from_spec(const json& spec) {
    return std::make_unique<LinearModel>(ModelSpec::from_json(spec));
}
std::unique_ptr<Model> linear_from_json(const json& j) {
    return std::make_unique<LinearModel>(LinearModelCodec::from_json(j));
}
std::unique_ptr<Model> linear_decode(const uint8_t* data, size_t size) {
    return std::make_unique<LinearModel>(LinearModelCodec::decode(data, size));
}

const ModelFamily kLinearRegression = {"linear_regression", uint16_t(ModelKind::LinearRegression),
                                       Task::Regression, linear_from_spec, linear_from_json, linear_decode};
const ModelFamily kLogisticRegression = {"logistic_regression", uint16_t(ModelKind::LogisticRegression),
                                         Task::Binary, linear_from_spec, linear_from_json, linear_decode};
const ModelFamily kSoftmaxRegression = {"softmax_regression", uint16_t(ModelKind::SoftmaxRegression),
                                        Task::Multiclass, linear_from_spec, linear_from_json, linear_decode};

}  // namespace

const std::vector<const ModelFamily*>& linear_families() {
    static const std::vector<const ModelFamily*> all = {&kLinearRegression, &kLogisticRegression,
                                                        &kSoftmaxRegression};
    return all;
}

}  // namespace pg_learn::core
