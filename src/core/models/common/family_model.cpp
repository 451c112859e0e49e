// The shared part of the model families (core/models/common/family_model.hpp).
#include "core/models/common/family_model.hpp"

#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/json_options.hpp"
#include "core/common/text.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace pg_learn::core {

using nlohmann::json;

namespace {

const detail::JsonOptions kSpecOptions("model spec");
constexpr uint64_t kIdentitySeed = 0x706c6561726e32ull;
constexpr size_t kMaxIgnore = 1000;

// Sections of a family model after the envelope (docs/format.md, "Family models"): a u32 tag,
// a u32 zero and a u64 payload length, then the payload padded with zeros to 8 bytes.
enum Tag : uint32_t { kSpec = 1, kCounters = 2, kFeatures = 3, kClasses = 4, kState = 5, kBase = 6 };

size_t pad8(size_t n) { return (n + 7) & ~size_t(7); }

std::string hex_identity(uint64_t id) {
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
    return buf;
}

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

}  // namespace

// ---- classes -----------------------------------------------------------------------------------

uint32_t ClassDictionary::find(const Label& y) const {
    if (y.type == Label::Type::Text) {
        auto it = index_.find(std::string(y.text));
        return it == index_.end() ? UINT32_MAX : it->second;
    }
    auto it = index_.find(class_of_label(y));
    return it == index_.end() ? UINT32_MAX : it->second;
}

uint32_t ClassDictionary::learn(const Label& y) {
    std::string name = class_of_label(y);  // checks the label
    if (auto it = index_.find(name); it != index_.end()) return it->second;
    if (names_.size() >= kMaxClasses)
        fail(ErrorKind::ProgramLimit, "model has too many classes",
             "the limit is " + std::to_string(kMaxClasses) + " classes; \"" + message_name(name) + "\" would be one more");
    const auto i = static_cast<uint32_t>(names_.size());
    names_.push_back(name);
    index_.emplace(std::move(name), i);
    return i;
}

std::string ClassDictionary::invalid() const {
    if (names_.size() > kMaxClasses) return "too many classes";
    if (index_.size() != names_.size()) return "classes repeat";
    for (const auto& c : names_)
        if (c.empty() || c.size() > kMaxClassNameBytes || !is_valid_utf8(c) || c.find('\0') != std::string::npos)
            return "a class name is not a non-empty UTF-8 text without NUL bytes";
    return {};
}

void ClassDictionary::truncate(size_t k) {
    while (names_.size() > k) {
        index_.erase(names_.back());
        names_.pop_back();
    }
}

void ClassDictionary::rebuild_index() {
    index_.clear();
    for (size_t i = 0; i < names_.size(); i++) index_.emplace(names_[i], static_cast<uint32_t>(i));
}

size_t ClassDictionary::encoded_size() const {
    size_t n = 4;
    for (const auto& c : names_) n += 4 + c.size();
    return n;
}

void ClassDictionary::encode(detail::ByteWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(names_.size()));
    for (const auto& c : names_) {
        w.put<uint32_t>(static_cast<uint32_t>(c.size()));
        w.bytes(c.data(), c.size());
    }
}

void ClassDictionary::decode(detail::ByteReader& r) {
    const auto n = r.get<uint32_t>("classes");
    if (n > kMaxClasses) r.corrupt("too many classes");
    names_.clear();
    for (uint32_t i = 0; i < n; i++) {
        const auto len = r.get<uint32_t>("classes");
        if (len > kMaxClassNameBytes) r.corrupt("class name too long");
        const uint8_t* p = r.take(len, "classes");
        names_.emplace_back(reinterpret_cast<const char*>(p), len);
    }
    rebuild_index();
    if (std::string why = invalid(); !why.empty()) r.corrupt(why);
}

void ClassDictionary::from_json(const json& j) {
    if (!j.is_array() || j.size() > kMaxClasses) bad_json("\"classes\" must be an array of at most " + std::to_string(kMaxClasses) + " strings");
    names_.clear();
    for (const auto& c : j) {
        if (!c.is_string()) bad_json("\"classes\" must be an array of strings");
        names_.push_back(c.get<std::string>());
    }
    rebuild_index();
    if (std::string why = invalid(); !why.empty()) bad_json(why);
}

// ---- specs -------------------------------------------------------------------------------------

FamilySpec parse_family_spec(const json& spec, std::initializer_list<const char*> known) {
    if (!spec.is_object()) kSpecOptions.fail_at("", "must be a JSON object");
    FamilySpec out;
    for (auto it = spec.begin(); it != spec.end(); ++it) {
        const std::string& k = it.key();
        if (k == "model" || k == "ignore") continue;
        bool ok = false;
        for (const char* name : known) ok = ok || k == name;
        if (ok) continue;
        std::string list = "model, ignore";
        for (const char* name : known) list += std::string(", ") + name;
        fail(ErrorKind::InvalidParameter,
             "unknown option \"" + message_name(k) + "\" for model \"" +
                 message_name(spec.value("model", std::string())) + "\"",
             {}, "valid options: " + list + " (docs/models.md)");
    }
    if (auto it = spec.find("ignore"); it != spec.end()) {
        if (!it->is_array()) kSpecOptions.fail_at("ignore", "must be an array of feature names");
        if (it->size() > kMaxIgnore) fail(ErrorKind::ProgramLimit, "option \"ignore\" lists too many names");
        for (const auto& n : *it) {
            if (!n.is_string()) kSpecOptions.fail_at("ignore", "must be an array of feature names");
            const std::string& s = n.get_ref<const std::string&>();
            if (s.find('\0') != std::string::npos) fail(ErrorKind::InvalidText, "an ignored feature name must not contain a NUL byte");
            if (!ignored_key(out.ignore, s)) out.ignore.push_back(s);
        }
    }
    return out;
}

double number_option(const json& spec, const char* key, double def, double lo, double hi) {
    auto it = spec.find(key);
    return it == spec.end() ? def : kSpecOptions.number(*it, key, lo, hi);
}

int64_t integer_option(const json& spec, const char* key, int64_t def, int64_t lo, int64_t hi) {
    auto it = spec.find(key);
    return it == spec.end() ? def : kSpecOptions.integer(*it, key, lo, hi);
}

bool boolean_option(const json& spec, const char* key, bool def) {
    auto it = spec.find(key);
    return it == spec.end() ? def : kSpecOptions.boolean(*it, key);
}

std::string choice_option(const json& spec, const char* key, const char* def, std::initializer_list<const char*> allowed) {
    auto it = spec.find(key);
    if (it == spec.end()) return def;
    const std::string s = kSpecOptions.string(*it, key);
    std::string list;
    for (const char* a : allowed) {
        if (s == a) return s;
        list += std::string(list.empty() ? "" : ", ") + "\"" + a + "\"";
    }
    kSpecOptions.fail_at(key, "must be one of " + list + ", not \"" + message_name(s) + "\"");
}

// ---- the model ---------------------------------------------------------------------------------

FamilyModel::FamilyModel(const ModelFamily& family, FamilySpec spec)
    : family_(&family), options_(std::move(spec.options)), ignore_(std::move(spec.ignore)) {
    set_identity();
}

FamilyModel::FamilyModel(const FamilyModel& o)
    : Model(o), family_(o.family_), options_(o.options_), ignore_(o.ignore_), identity_(o.identity_),
      updates_(o.updates_), n_seen_(o.n_seen_), dense_dim_(o.dense_dim_), features_(o.features_),
      classes_(o.classes_), agg_base_(o.agg_base_ ? o.agg_base_->clone_family() : nullptr) {}

FamilyModel& FamilyModel::operator=(const FamilyModel& o) {
    if (this == &o) return *this;
    family_ = o.family_;
    options_ = o.options_;
    ignore_ = o.ignore_;
    identity_ = o.identity_;
    updates_ = o.updates_;
    n_seen_ = o.n_seen_;
    dense_dim_ = o.dense_dim_;
    features_ = o.features_;
    classes_ = o.classes_;
    agg_base_ = o.agg_base_ ? o.agg_base_->clone_family() : nullptr;
    return *this;
}

std::unique_ptr<FamilyModel> FamilyModel::clone_family() const {
    return std::unique_ptr<FamilyModel>(static_cast<FamilyModel*>(clone().release()));
}

namespace {

json stored_spec(const char* kind, const json& options, const std::vector<std::string>& ignore) {
    json s = options;
    s["model"] = kind;
    if (!ignore.empty()) s["ignore"] = ignore;
    return s;
}

}  // namespace

void FamilyModel::set_identity() {
    const std::string canon = stored_spec(kind(), options_, ignore_).dump();
    identity_ = hash64(canon.data(), canon.size(), kIdentitySeed);
}

void FamilyModel::ignore_feature(std::string_view name) {
    if (ignored_key(ignore_, name)) return;
    if (ignore_.size() >= kMaxIgnore) fail(ErrorKind::ProgramLimit, "option \"ignore\" lists too many names");
    if (!is_valid_utf8(name) || name.find('\0') != std::string_view::npos)
        fail(ErrorKind::InvalidText, "an ignored feature name must be UTF-8 text without NUL bytes");
    ignore_.emplace_back(name);
    set_identity();
}

void FamilyModel::label_of(const Label& y, double& number, uint32_t& cls) {
    check_label(kind(), task(), y);
    number = std::nan("");
    cls = UINT32_MAX;
    switch (task()) {
        case Task::Regression:
            number = y.number;
            if (y.type == Label::Type::Text && !parse_number_label(y.text, number))
                fail(ErrorKind::Internal, "a text label passed the regression check");
            break;
        case Task::Binary: {
            double v = y.number;
            if (y.type == Label::Type::Text) v = (y.text == "true" || (parse_number_label(y.text, v) && v == 1.0)) ? 1.0 : 0.0;
            number = v;
            cls = v == 1.0 ? 1 : 0;
            break;
        }
        case Task::Multiclass: cls = UINT32_MAX; break;  // added by learn_common once the terms resolved
        case Task::Clustering:
        case Task::Anomaly: break;
    }
}

void FamilyModel::learn_common(double y_number, uint32_t y_class, size_t f_before, size_t k_before, const Label& y) {
    if (features_.size() != f_before) features_added(features_.size());
    if (task() == Task::Multiclass) {
        y_class = classes_.learn(y);
        if (classes_.size() != k_before) classes_added(classes_.size());
    }
    learn_terms(terms_, y_number, y_class);
    updates_++;
    n_seen_++;
}

// A refused example leaves no trace: the names and the class it added are forgotten (the family
// resized its state to them, and is resized back).
void FamilyModel::forget_new_names(size_t f_before, size_t k_before) {
    if (features_.size() != f_before) {
        features_.truncate(f_before);
        features_added(f_before);
    }
    if (classes_.size() != k_before) {
        classes_.truncate(k_before);
        classes_added(k_before);
    }
}

void FamilyModel::learn(const Observation& x, const Label& y) {
    if (!can_learn()) fail(ErrorKind::InvalidParameter, std::string("a ") + kind() + " model cannot learn");
    double number;
    uint32_t cls;
    label_of(y, number, cls);
    const size_t before = features_.size(), k_before = classes_.size();
    try {
        features_.learn_resolve(x, ignore_, terms_);
        learn_common(number, cls, before, k_before, y);
    } catch (...) {
        forget_new_names(before, k_before);
        throw;
    }
}

void FamilyModel::learn_dense(const double* x, size_t n, const Label& y) {
    if (!can_learn()) fail(ErrorKind::InvalidParameter, std::string("a ") + kind() + " model cannot learn");
    check_dense_input(x, n, dense_dim_);
    double number;
    uint32_t cls;
    label_of(y, number, cls);
    const size_t before = features_.size(), k_before = classes_.size();
    try {
        features_.learn_resolve_dense(x, n, ignore_, terms_);
        learn_common(number, cls, before, k_before, y);
    } catch (...) {
        forget_new_names(before, k_before);
        throw;
    }
    dense_dim_ = static_cast<uint32_t>(n);
}

double FamilyModel::predict_terms(const std::vector<FeatureTerm>&) const {
    const char* use = task() == Task::Multiclass || task() == Task::Clustering ? "ml_predict_class" : "ml_predict_one";
    fail(ErrorKind::InvalidParameter,
         std::string("a ") + kind() + " model has no single number to predict (its task is " + task_name(task()) + ")",
         {}, std::string("Use ") + use + ".");
}

void FamilyModel::proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const {
    if (task() != Task::Binary) Model::classes();  // refuses: a family with classes overrides this
    const double p1 = predict_terms(x);
    p.assign({1.0 - p1, p1});
}

const std::vector<std::string>& FamilyModel::cluster_names() const { return Model::classes(); }

double FamilyModel::predict(const Observation& x) const {
    features_.resolve(x, ignore_, terms_);
    return predict_terms(terms_);
}

double FamilyModel::predict_dense(const double* x, size_t n) const {
    check_dense_input(x, n, dense_dim_);
    features_.resolve_dense(x, n, ignore_, terms_);
    return predict_terms(terms_);
}

void FamilyModel::explain(const Observation& x, Explanation& out) const {
    features_.resolve(x, ignore_, terms_);
    explain_terms(terms_, out);
}

void FamilyModel::explain_dense(const double* x, size_t n, Explanation& out) const {
    check_dense_input(x, n, dense_dim_);
    features_.resolve_dense(x, n, ignore_, terms_);
    explain_terms(terms_, out);
}

void FamilyModel::explain_terms(const std::vector<FeatureTerm>&, Explanation& out) const {
    static const Observation none;
    Model::explain(none, out);  // refuses, naming the kind
}

const std::vector<std::string>& FamilyModel::classes() const {
    static const std::vector<std::string> binary = {"0", "1"};
    switch (task()) {
        case Task::Binary: return binary;
        case Task::Multiclass: return classes_.names();
        case Task::Clustering: return cluster_names();
        default: return Model::classes();
    }
}

void FamilyModel::predict_proba(const Observation& x, std::vector<double>& p) const {
    classes();  // refuses tasks without classes
    features_.resolve(x, ignore_, terms_);
    proba_terms(terms_, p);
}

void FamilyModel::predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const {
    classes();
    check_dense_input(x, n, dense_dim_);
    features_.resolve_dense(x, n, ignore_, terms_);
    proba_terms(terms_, p);
}

void FamilyModel::check_features(const Observation& x, FeatureCheck& out, bool name_missing) const {
    features_.check(x, ignore_, out, name_missing);
}

void FamilyModel::check_features_dense(size_t n, FeatureCheck& out) const { features_.check_dense(n, ignore_, out); }

std::string FamilyModel::closest_feature(std::string_view name) const { return features_.closest(name); }

void FamilyModel::begin_aggregation() {
    agg_base_.reset();
    if (n_seen_ > 0) agg_base_ = clone_family();
}

void FamilyModel::merge(const Model& other_model) {
    const auto* other = dynamic_cast<const FamilyModel*>(&other_model);
    if (!other || other->family_ != family_ || other->identity_ != identity_)
        fail(ErrorKind::InvalidParameter, "cannot merge models of different specs",
             std::string("a ") + kind() + " model and a " + other_model.kind() + " model, or different options",
             "Partial models merge only when every aggregate started from the same spec.");
    if (!can_merge())
        fail(ErrorKind::InvalidParameter, std::string("a ") + kind() + " model cannot merge partial models",
             {}, "Run its ml_fit without parallel workers (SET max_parallel_workers_per_gather = 0).");
    if (other->dense_dim_ != 0 && dense_dim_ != 0 && other->dense_dim_ != dense_dim_)
        fail(ErrorKind::InvalidParameter, "cannot merge models trained on feature arrays of different lengths");
    // Both partial models hold their common base: it is counted once.
    const FamilyModel* base = agg_base_ ? agg_base_.get() : other->agg_base_.get();
    if (agg_base_ && other->agg_base_ && agg_base_->encode_state() != other->agg_base_->encode_state())
        fail(ErrorKind::InvalidParameter, "cannot merge partial models that started from different models");
    // A copy, so that a refused merge leaves this model as it was.
    std::unique_ptr<FamilyModel> next = clone_family();
    std::vector<uint32_t> fmap(other->features_.size()), cmap(other->classes_.size());
    const size_t f_before = next->features_.size(), k_before = next->classes_.size();
    for (size_t i = 0; i < fmap.size(); i++) fmap[i] = next->features_.add(other->features_.name(i), other->features_.type(i));
    for (size_t c = 0; c < cmap.size(); c++) cmap[c] = next->classes_.learn(Label::of_text(other->classes_.names()[c]));
    if (next->features_.size() != f_before) next->features_added(next->features_.size());
    if (next->classes_.size() != k_before) next->classes_added(next->classes_.size());
    next->merge_state(*other, fmap, cmap, base);
    const uint64_t base_updates = base ? base->updates_ : 0, base_seen = base ? base->n_seen_ : 0;
    next->updates_ = updates_ + other->updates_ - (other->updates_ >= base_updates && base ? base_updates : 0);
    next->n_seen_ = n_seen_ + other->n_seen_ - (other->n_seen_ >= base_seen && base ? base_seen : 0);
    if (next->dense_dim_ == 0) next->dense_dim_ = other->dense_dim_;
    if (!next->agg_base_ && other->agg_base_) next->agg_base_ = other->agg_base_->clone_family();
    if (std::string why = next->invalid(); !why.empty()) unstorable("ml_model", why);
    assign(*next);
}

nlohmann::json FamilyModel::info() const {
    json out = {{"kind", kind()},
                {"task", task_name(task())},
                {"spec", stored_spec(kind(), options_, ignore_)},
                {"identity", hex_identity(identity_)},
                {"updates", updates_},
                {"n_seen", n_seen_},
                {"n_features", features_.size()},
                {"features", features_.names()},
                {"size_bytes", encoded_size()}};
    if (task() == Task::Multiclass || task() == Task::Binary) out["classes"] = classes();
    const json extra = info_extra();
    for (auto it = extra.begin(); it != extra.end(); ++it) out[it.key()] = it.value();
    return out;
}

// ---- storage -----------------------------------------------------------------------------------

std::string FamilyModel::invalid() const {
    if (std::string why = features_.invalid(); !why.empty()) return why;
    if (std::string why = classes_.invalid(); !why.empty()) return why;
    if (task() != Task::Multiclass && classes_.size() != 0) return "a model of this task has no class list";
    if (dense_dim_ > kMaxDictionaryNames) return "feature array length out of range";
    if (updates_ < n_seen_) return "fewer updates than examples seen";
    return invalid_state();
}

std::string FamilyModel::encode_state() const {
    std::string s;
    detail::ByteWriter w(s);
    write_state(w);
    return s;
}

size_t FamilyModel::encoded_size() const {
    const std::string spec = stored_spec(kind(), options_, ignore_).dump();
    size_t n = kEnvelopeHeaderSize;
    n += 16 + pad8(spec.size());
    n += 16 + 8;  // counters: dense_dim, reserved
    n += 16 + pad8(features_.encoded_size());
    n += 16 + pad8(classes_.encoded_size());
    n += 16 + pad8(encode_state().size());
    if (agg_base_) n += 16 + pad8(agg_base_->encoded_size());
    if (n > kMaxModelBytes)
        fail(ErrorKind::ProgramLimit, "model is too large to store",
             "it needs " + std::to_string(n) + " bytes; the limit is " + std::to_string(kMaxModelBytes));
    return n;
}

void FamilyModel::encode(uint8_t* out, size_t size) const {
    // The decoders' own check: never write what they refuse.
    if (std::string why = invalid(); !why.empty()) unstorable("ml_model", why);
    std::string body;
    detail::ByteWriter w(body);
    auto section = [&](uint32_t tag, const std::string& payload) {
        w.put<uint32_t>(tag);
        w.put<uint32_t>(0);
        w.put<uint64_t>(payload.size());
        w.bytes(payload.data(), payload.size());
        static const char zeros[8] = {};
        w.bytes(zeros, pad8(payload.size()) - payload.size());
    };
    uint32_t sections = 0;
    auto add = [&](uint32_t tag, const std::string& payload) {
        section(tag, payload);
        sections++;
    };
    add(kSpec, stored_spec(kind(), options_, ignore_).dump());
    {
        std::string c;
        detail::ByteWriter cw(c);
        cw.put<uint32_t>(dense_dim_);
        cw.put<uint32_t>(0);
        add(kCounters, c);
    }
    {
        std::string f;
        detail::ByteWriter fw(f);
        features_.encode(fw);
        add(kFeatures, f);
    }
    {
        std::string c;
        detail::ByteWriter cw(c);
        classes_.encode(cw);
        add(kClasses, c);
    }
    add(kState, encode_state());
    if (agg_base_) {
        std::string b(agg_base_->encoded_size(), '\0');
        agg_base_->encode(reinterpret_cast<uint8_t*>(b.data()), b.size());
        add(kBase, b);
    }
    if (kEnvelopeHeaderSize + body.size() != size) fail(ErrorKind::Internal, "model encoder size mismatch");
    EnvelopeHeader h{kModelFormatVersion, family_->code, identity_, updates_, n_seen_, 0, sections,
                     static_cast<uint32_t>(size)};
    write_envelope(out, h);
    std::memcpy(out + kEnvelopeHeaderSize, body.data(), body.size());
    seal_envelope(out, size);
}

void FamilyModel::read_sections(FamilyModel& m, const EnvelopeHeader& h, const uint8_t* data, size_t size) {
    detail::ByteReader r(data, size, "ml_model");
    m.updates_ = h.updates;
    m.n_seen_ = h.n_seen;
    uint32_t expect = kCounters;
    bool has_base = false;
    for (uint32_t s = 1; s < h.sections; s++) {
        const auto tag = r.get<uint32_t>("section header");
        const auto zero = r.get<uint32_t>("section header");
        const auto len = r.get<uint64_t>("section header");
        if (tag != expect) r.corrupt("sections out of order: section " + std::to_string(tag) + " where " + std::to_string(expect) + " belongs");
        if (zero != 0) r.corrupt("reserved field of a section header is not zero");
        if (len > r.remaining()) r.corrupt("truncated in section " + std::to_string(tag));
        const uint8_t* p = r.take(len, "section");
        const uint8_t* pad = r.take(pad8(len) - len, "section padding");
        for (size_t i = 0; i < pad8(len) - len; i++)
            if (pad[i] != 0) r.corrupt("padding of section " + std::to_string(tag) + " is not zero");
        detail::ByteReader sr(p, len, "ml_model");
        switch (tag) {
            case kCounters:
                m.dense_dim_ = sr.get<uint32_t>("counters");
                if (sr.get<uint32_t>("counters") != 0) sr.corrupt("reserved counter is not zero");
                break;
            case kFeatures: m.features_.decode(sr); break;
            case kClasses: m.classes_.decode(sr); break;
            case kState:
                m.features_added(m.features_.size());
                m.classes_added(m.classes_.size());
                m.read_state(sr);
                break;
            case kBase: {
                std::unique_ptr<Model> b = decode_any(p, len);
                auto* fb = dynamic_cast<FamilyModel*>(b.get());
                if (!fb || fb->family_ != m.family_ || fb->identity_ != m.identity_ || fb->agg_base_)
                    r.corrupt("aggregation base is not a model of the same spec");
                b.release();
                m.agg_base_.reset(fb);
                has_base = true;
                sr.take(len, "aggregation base");
                break;
            }
        }
        sr.expect_end();
        expect = tag == kState ? kBase : tag + 1;
    }
    if (has_base ? (expect != kBase + 1 || h.sections != 6) : (expect != kBase || h.sections != 5))
        r.corrupt("wrong number of sections");
    r.expect_end();
    if (std::string why = m.invalid(); !why.empty()) r.corrupt(why);
}

std::unique_ptr<Model> FamilyModel::decode_any(const uint8_t* data, size_t size) {
    const EnvelopeHeader h = read_envelope(data, size, "ml_model");
    const ModelFamily* f = family_by_code(h.kind);
    if (!f) fail(ErrorKind::InvalidBinary, "invalid binary ml_model: unknown model kind " + std::to_string(h.kind));
    detail::ByteReader r(data + kEnvelopeHeaderSize, size - kEnvelopeHeaderSize, "ml_model");
    if (h.sections < 5) r.corrupt("wrong number of sections");
    if (r.get<uint32_t>("section header") != kSpec || r.get<uint32_t>("section header") != 0)
        r.corrupt("expected section spec");
    const auto len = r.get<uint64_t>("section header");
    if (len > r.remaining()) r.corrupt("truncated in spec");
    const char* text = reinterpret_cast<const char*>(r.take(len, "spec"));
    const json spec = json::parse(text, text + len, nullptr, false);
    if (spec.is_discarded() || !spec.is_object()) r.corrupt("spec is not a JSON object");
    if (spec.value("model", std::string()) != f->kind) r.corrupt("model kind differs from the spec");
    std::unique_ptr<Model> model;
    try {
        model = f->from_spec(spec);
    } catch (const Error& e) {
        r.corrupt(std::string("bad spec: ") + e.what());
    }
    auto* m = dynamic_cast<FamilyModel*>(model.get());
    if (!m) r.corrupt("model kind is not a family model");
    if (stored_spec(m->kind(), m->options_, m->ignore_).dump() != std::string_view(text, len))
        r.corrupt("spec is not in canonical form");
    if (m->identity_ != h.identity) r.corrupt("identity does not match the spec");
    // The rest follows the spec section (its padding is checked here).
    const uint8_t* pad = r.take(pad8(len) - len, "spec padding");
    for (size_t i = 0; i < pad8(len) - len; i++)
        if (pad[i] != 0) r.corrupt("padding of section 1 is not zero");
    const size_t consumed = kEnvelopeHeaderSize + 16 + pad8(len);
    read_sections(*m, h, data + consumed, size - consumed);
    return model;
}

json FamilyModel::to_json() const {
    if (std::string why = invalid(); !why.empty()) unstorable("ml_model", why);
    json j = {{"pg_learn_model", kModelFormatVersion},
              {"kind", kind()},
              {"spec", stored_spec(kind(), options_, ignore_)},
              {"identity", hex_identity(identity_)},
              {"updates", updates_},
              {"n_seen", n_seen_},
              {"dense_dim", dense_dim_},
              {"features", features_.to_json()},
              {"state", state_json()}};
    if (task() == Task::Multiclass) j["classes"] = classes_.to_json();
    if (agg_base_) j["aggregation_base"] = agg_base_->to_json();
    return j;
}

std::unique_ptr<Model> FamilyModel::from_json_any(const json& j) {
    static const char* known[] = {"pg_learn_model", "kind", "spec", "identity", "updates", "n_seen",
                                  "dense_dim", "features", "classes", "state", "aggregation_base"};
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) bad_json("unknown key \"" + message_name(it.key()) + "\"");
    }
    for (const char* k : {"kind", "spec", "identity", "updates", "n_seen", "dense_dim", "features", "state"})
        if (!j.contains(k)) bad_json(std::string("missing key \"") + k + "\"");
    const ModelFamily* f = j["kind"].is_string() ? family_by_kind(j["kind"].get<std::string>()) : nullptr;
    const json& spec = j["spec"];
    if (!f || !spec.is_object() || spec.value("model", std::string()) != f->kind)
        bad_json("\"kind\" does not match the spec");
    std::unique_ptr<Model> model = f->from_spec(spec);
    auto* m = dynamic_cast<FamilyModel*>(model.get());
    if (!m) bad_json("\"kind\" is not a family model");
    if (!j["identity"].is_string() || j["identity"].get<std::string>() != hex_identity(m->identity_))
        bad_json("identity does not match the spec");
    for (const char* k : {"updates", "n_seen", "dense_dim"})
        if (!j[k].is_number_unsigned()) bad_json(std::string("\"") + k + "\" must be a non-negative integer");
    m->updates_ = j["updates"].get<uint64_t>();
    m->n_seen_ = j["n_seen"].get<uint64_t>();
    if (j["dense_dim"].get<uint64_t>() > kMaxDictionaryNames) bad_json("\"dense_dim\" out of range");
    m->dense_dim_ = static_cast<uint32_t>(j["dense_dim"].get<uint64_t>());
    m->features_.from_json(j["features"]);
    if (m->task() == Task::Multiclass) {
        if (!j.contains("classes")) bad_json("missing key \"classes\"");
        m->classes_.from_json(j["classes"]);
    } else if (j.contains("classes")) {
        bad_json("a model of this task has no \"classes\"");
    }
    m->features_added(m->features_.size());
    m->classes_added(m->classes_.size());
    m->state_from_json(j["state"]);
    if (j.contains("aggregation_base")) {
        const json& b = j["aggregation_base"];
        if (!b.is_object() || b.contains("aggregation_base")) bad_json("\"aggregation_base\" must be a model without a base");
        std::unique_ptr<Model> bm = from_json_any(b);
        auto* fb = dynamic_cast<FamilyModel*>(bm.get());
        if (!fb || fb->family_ != m->family_ || fb->identity_ != m->identity_)
            bad_json("\"aggregation_base\" is not a model of the same spec");
        bm.release();
        m->agg_base_.reset(fb);
    }
    if (std::string why = m->invalid(); !why.empty()) bad_json(why);
    return model;
}


}  // namespace pg_learn::core
