// Training histories: validation, JSON and binary forms, and the ml_model values that carry one.
#include "core/models/training_history.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace pg_learn::core {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kHistoryMagic[4] = {'P', 'G', 'L', 'H'};
constexpr uint16_t kHistoryVersion = 1;
constexpr size_t kHistoryFixed = 56;
constexpr size_t kRecordBytes = 16;

uint64_t bits(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
}

// A loss or time: NaN (the one quiet NaN the encoder writes, so a value reads back bit for bit)
// or a finite number >= 0.
bool valid_number(double v, bool nan_ok) {
    if (v != v) return nan_ok && bits(v) == bits(kNaN);  // (nan_ok: every caller, today)
    return std::isfinite(v) && v >= 0;
}

[[noreturn]] void bad_json(const std::string& why) {
    fail(ErrorKind::InvalidParameter, "invalid ml_model: training_history: " + why);
}

json number_or_null(double v) { return v == v ? json(v) : json(); }

}  // namespace

std::string TrainingHistory::invalid() const {
    if (loss != LossKind::None && loss != LossKind::SquaredError && loss != LossKind::LogLoss) return "unknown loss";
    if (epochs < 1 || epochs > static_cast<uint32_t>(kMaxEpochs)) return "epochs out of range";
    if (epochs_run < 1 || epochs_run > epochs) return "epochs_run out of range";
    if (records.size() != std::min<size_t>(epochs_run, kMaxHistoryEpochs)) return "wrong number of epochs kept";
    if (patience > static_cast<uint32_t>(kMaxEpochs)) return "patience out of range";
    if (!std::isfinite(min_delta) || min_delta < 0 || min_delta >= 1) return "min_delta out of range";
    if (stopped_early && (patience == 0 || epochs_run >= epochs)) return "stopped_early without early stopping";
    if (patience == 0 ? best_epoch != 0 : best_epoch > epochs_run) return "best_epoch out of range";
    if (loss == LossKind::None && validation_rows != 0) return "validation rows without a loss";
    for (const EpochRecord& r : records) {
        if (!valid_number(r.train_loss, true) || !valid_number(r.validation_loss, true))
            return "a loss is negative or infinite";
        if (loss == LossKind::None && r.train_loss == r.train_loss) return "a loss without a loss kind";
        if (validation_rows == 0 && r.validation_loss == r.validation_loss) return "a validation loss without validation rows";
    }
    return {};
}

bool TrainingHistory::operator==(const TrainingHistory& o) const {
    if (loss != o.loss || epochs != o.epochs || epochs_run != o.epochs_run || patience != o.patience ||
        bits(min_delta) != bits(o.min_delta) || stopped_early != o.stopped_early || best_epoch != o.best_epoch ||
        rows != o.rows || validation_rows != o.validation_rows || records.size() != o.records.size())
        return false;
    for (size_t i = 0; i < records.size(); i++)
        if (bits(records[i].train_loss) != bits(o.records[i].train_loss) ||
            bits(records[i].validation_loss) != bits(o.records[i].validation_loss))
            return false;
    return true;
}

json TrainingHistory::to_json() const {
    json epochs_out = json::array();
    for (size_t i = 0; i < records.size(); i++) {
        const EpochRecord& r = records[i];
        epochs_out.push_back({{"epoch", first_epoch() + i},
                              {"rows", rows},
                              {"train_loss", number_or_null(r.train_loss)},
                              {"validation_loss", number_or_null(r.validation_loss)}});
    }
    return {{"loss", loss == LossKind::None ? json() : json(loss_name(loss))},
            {"epochs", epochs},
            {"epochs_run", epochs_run},
            {"patience", patience ? json(patience) : json()},
            {"min_delta", min_delta},
            {"stopped_early", stopped_early},
            {"best_epoch", best_epoch ? json(best_epoch) : json()},
            {"rows", rows},
            {"validation_rows", validation_rows},
            {"history", epochs_out}};
}

TrainingHistory TrainingHistory::from_json(const json& j) {
    static const char* keys[] = {"loss", "epochs", "epochs_run", "patience", "min_delta", "stopped_early",
                                 "best_epoch", "rows", "validation_rows", "history"};
    if (!j.is_object()) bad_json("must be an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : keys) ok = ok || it.key() == k;
        if (!ok) bad_json("unknown key \"" + it.key().substr(0, 64) + "\"");
    }
    for (const char* k : keys)
        if (!j.contains(k)) bad_json(std::string("missing key \"") + k + "\"");
    auto count = [&](const json& v, const char* what, uint64_t max) -> uint64_t {
        if (!v.is_number_unsigned() || v.get<uint64_t>() > max) bad_json(std::string("\"") + what + "\" out of range");
        return v.get<uint64_t>();
    };
    auto number = [&](const json& v, const char* what, bool null_ok) -> double {
        if (v.is_null() && null_ok) return kNaN;
        if (!v.is_number()) bad_json(std::string("\"") + what + "\" must be a number");
        return v.get<double>();
    };
    TrainingHistory h;
    const json& loss = j["loss"];
    if (loss.is_null()) h.loss = LossKind::None;
    else if (loss == loss_name(LossKind::SquaredError)) h.loss = LossKind::SquaredError;
    else if (loss == loss_name(LossKind::LogLoss)) h.loss = LossKind::LogLoss;
    else bad_json("unknown \"loss\"");
    h.epochs = static_cast<uint32_t>(count(j["epochs"], "epochs", kMaxEpochs));
    h.epochs_run = static_cast<uint32_t>(count(j["epochs_run"], "epochs_run", kMaxEpochs));
    h.patience = j["patience"].is_null() ? 0 : static_cast<uint32_t>(count(j["patience"], "patience", kMaxEpochs));
    if (h.patience == 0 && !j["patience"].is_null()) bad_json("\"patience\" out of range");
    h.min_delta = number(j["min_delta"], "min_delta", false);
    if (!j["stopped_early"].is_boolean()) bad_json("\"stopped_early\" must be a boolean");
    h.stopped_early = j["stopped_early"].get<bool>();
    h.best_epoch = j["best_epoch"].is_null() ? 0 : static_cast<uint32_t>(count(j["best_epoch"], "best_epoch", kMaxEpochs));
    if (h.best_epoch == 0 && !j["best_epoch"].is_null()) bad_json("\"best_epoch\" out of range");
    h.rows = count(j["rows"], "rows", UINT64_MAX);
    h.validation_rows = count(j["validation_rows"], "validation_rows", UINT64_MAX);
    const json& hist = j["history"];
    if (!hist.is_array() || hist.size() > kMaxHistoryEpochs) bad_json("\"history\" must be an array of at most 1000 epochs");
    for (size_t i = 0; i < hist.size(); i++) {
        const json& e = hist[i];
        if (!e.is_object() || e.size() != 4 || !e.contains("epoch") || !e.contains("rows") ||
            !e.contains("train_loss") || !e.contains("validation_loss"))
            bad_json("each epoch has exactly epoch, rows, train_loss and validation_loss");
        EpochRecord r{number(e["train_loss"], "train_loss", true), number(e["validation_loss"], "validation_loss", true)};
        h.records.push_back(r);
    }
    if (std::string why = h.invalid(); !why.empty()) bad_json(why);
    for (size_t i = 0; i < hist.size(); i++)
        if (!hist[i]["epoch"].is_number_unsigned() || hist[i]["epoch"].get<uint64_t>() != h.first_epoch() + i ||
            !hist[i]["rows"].is_number_unsigned() || hist[i]["rows"].get<uint64_t>() != h.rows)
            bad_json("epochs must be numbered in order, each with the history's rows");
    return h;
}

std::string encode_history(const TrainingHistory& h) {
    if (std::string why = h.invalid(); !why.empty()) unstorable("ml_model", "training history: " + why);
    std::string out;
    detail::ByteWriter w(out);
    w.bytes(kHistoryMagic, 4);
    w.put<uint16_t>(kHistoryVersion);
    w.put<uint8_t>(static_cast<uint8_t>(h.loss));
    w.put<uint8_t>(h.stopped_early ? 1 : 0);
    w.put<uint32_t>(h.epochs);
    w.put<uint32_t>(h.epochs_run);
    w.put<uint32_t>(h.patience);
    w.put<uint32_t>(h.best_epoch);
    w.put<uint64_t>(h.rows);
    w.put<uint64_t>(h.validation_rows);
    w.put<double>(h.min_delta);
    w.put<uint32_t>(static_cast<uint32_t>(h.records.size()));
    w.put<uint32_t>(0);
    for (const EpochRecord& r : h.records) {
        w.put<double>(r.train_loss);
        w.put<double>(r.validation_loss);
    }
    return out;
}

TrainingHistory decode_history(const uint8_t* data, size_t size) {
    detail::ByteReader r(data, size, "ml_model");
    char magic[4];
    r.bytes(magic, 4, "training history");
    if (std::memcmp(magic, kHistoryMagic, 4) != 0) r.corrupt("bad training history magic");
    if (r.get<uint16_t>("training history") != kHistoryVersion) r.corrupt("unknown training history version");
    TrainingHistory h;
    const auto loss = r.get<uint8_t>("training history");
    if (loss > 2) r.corrupt("unknown training loss");
    h.loss = static_cast<LossKind>(loss);
    const auto flags = r.get<uint8_t>("training history");
    if (flags > 1) r.corrupt("unknown training history flags");
    h.stopped_early = flags == 1;
    h.epochs = r.get<uint32_t>("training history");
    h.epochs_run = r.get<uint32_t>("training history");
    h.patience = r.get<uint32_t>("training history");
    h.best_epoch = r.get<uint32_t>("training history");
    h.rows = r.get<uint64_t>("training history");
    h.validation_rows = r.get<uint64_t>("training history");
    h.min_delta = r.get<double>("training history");
    const auto n = r.get<uint32_t>("training history");
    if (r.get<uint32_t>("training history") != 0) r.corrupt("training history padding is not zero");
    if (n > kMaxHistoryEpochs || r.remaining() != n * kRecordBytes) r.corrupt("training history has the wrong length");
    h.records.resize(n);
    for (EpochRecord& e : h.records) {
        e.train_loss = r.get<double>("training history");
        e.validation_loss = r.get<double>("training history");
    }
    r.expect_end();
    if (std::string why = h.invalid(); !why.empty()) r.corrupt("training history: " + why);
    return h;
}

size_t model_value_size(const Model& m, const TrainingHistory* h) {
    const size_t n = m.encoded_size();
    if (!h) return n;
    return n + kHistoryFixed + h->records.size() * kRecordBytes + 8;
}

void encode_model_value(const Model& m, const TrainingHistory* h, uint8_t* out, size_t size) {
    if (!h) return m.encode(out, size);
    const size_t n = m.encoded_size();
    const std::string block = encode_history(*h);
    if (n + block.size() + 8 != size) fail(ErrorKind::Internal, "model value size mismatch");
    if (size > kMaxModelBytes) fail(ErrorKind::ProgramLimit, "ml_model value is too large");
    m.encode(out, n);
    std::memcpy(out + n, block.data(), block.size());
    const uint64_t at = n;
    std::memcpy(out + n + block.size(), &at, 8);
    std::memcpy(out + 4, &kModelWithHistoryVersion, 2);
    seal_envelope(out, size);  // the length field and the checksum now cover the whole value
}

std::unique_ptr<Model> decode_model_value(const uint8_t* data, size_t size, TrainingHistory* h, bool* has_history) {
    if (has_history) *has_history = false;
    if (h) *h = TrainingHistory();
    uint16_t version = 0;
    if (size >= kEnvelopeHeaderSize && std::memcmp(data, kModelMagic, 4) == 0) std::memcpy(&version, data + 4, 2);
    if (version > kModelWithHistoryVersion) newer_format_version("ml_model", version, kModelWithHistoryVersion);
    if (version != kModelWithHistoryVersion) return decode_model(data, size);
    detail::ByteReader r(data, size, "ml_model");
    uint32_t total = 0;
    uint64_t sum = 0;
    std::memcpy(&total, data + 44, 4);
    std::memcpy(&sum, data + kEnvelopeChecksumOffset, 8);
    if (total != size) r.corrupt("length field " + std::to_string(total) + " does not match the value's " +
                                 std::to_string(size) + " bytes");
    if (size % 8 != 0 || size < kEnvelopeHeaderSize + kHistoryFixed + 8) r.corrupt("value too short for a training history");
    if (envelope_checksum(data, size) != sum) r.corrupt("checksum mismatch");
    uint64_t at = 0;
    std::memcpy(&at, data + size - 8, 8);
    if (at < kEnvelopeHeaderSize || at % 8 != 0 || at > size - 8 - kHistoryFixed) r.corrupt("bad training history offset");
    TrainingHistory hist = decode_history(data + at, size - 8 - at);
    // The model's own bytes, as format 1 sealed them.
    std::string own(reinterpret_cast<const char*>(data), at);
    auto* p = reinterpret_cast<uint8_t*>(own.data());
    const uint16_t v1 = 1;
    std::memcpy(p + 4, &v1, 2);
    seal_envelope(p, at);
    std::unique_ptr<Model> m = decode_model(p, at);
    if (has_history) *has_history = true;
    if (h) *h = std::move(hist);
    return m;
}

json model_value_to_json(const Model& m, const TrainingHistory* h) {
    json j = m.to_json();
    if (h) j["training_history"] = h->to_json();
    return j;
}

std::unique_ptr<Model> model_value_from_text(const char* text, size_t len, TrainingHistory* h, bool* has_history) {
    if (has_history) *has_history = false;
    if (h) *h = TrainingHistory();
    check_json_depth(text, len, 32, "ml_model");
    json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("pg_learn_model") || !j.contains("training_history"))
        return model_from_text(text, len);  // (its own messages for bad text)
    TrainingHistory hist = TrainingHistory::from_json(j["training_history"]);
    j.erase("training_history");
    std::unique_ptr<Model> m = model_from_json(j);
    if (has_history) *has_history = true;
    if (h) *h = std::move(hist);
    return m;
}

}  // namespace pg_learn::core
