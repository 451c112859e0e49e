// Issue 16 item 5: progressive losses, the epoch loop with early stopping, and the training
// history's binary and JSON forms (docs/training.md, docs/format.md "Training history").
#include "test_util.hpp"

#include "core/common/envelope.hpp"
#include "core/models/training.hpp"
#include "core/models/training_history.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using core::Label;
using core::LossKind;
using core::TrainingHistory;
using core::TrainingHooks;
using core::TrainingPlan;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::unique_ptr<core::Model> spec_model(const char* text) { return core::model_from_text(text, std::strlen(text)); }

TEST(ExampleLoss, HandComputed) {
    // A fresh linear regression predicts 0: the squared error of y = 3 is 9.
    core::LinearModel reg = model_of(R"({"model": "linear_regression"})");
    EXPECT_DOUBLE_EQ(core::example_loss(reg, num({{"a", 1}}), Label::of_number(3)), 9.0);
    EXPECT_DOUBLE_EQ(core::example_loss(reg, num({{"a", 1}}), Label::of_text("-2")), 4.0);  // text spelling a number
    // A fresh logistic regression predicts 0.5: ln 2 for either class.
    core::LinearModel clf = model_of(R"({"model": "logistic_regression"})");
    EXPECT_NEAR(core::example_loss(clf, num({{"a", 1}}), Label::of_number(1)), std::log(2.0), 1e-15);
    EXPECT_NEAR(core::example_loss(clf, num({{"a", 1}}), Label::of_boolean(false)), std::log(2.0), 1e-15);
    const double x[1] = {1.0};
    EXPECT_NEAR(core::example_loss_dense(clf, x, 1, Label::of_text("true")), std::log(2.0), 1e-15);
    // A label the task refuses throws as learning it would.
    expect_error(ErrorKind::InvalidParameter, [&] { core::example_loss(clf, num({{"a", 1}}), Label::of_number(2)); });
    // A multiclass model that learned no class cannot predict yet: no loss. After learning "a"
    // and "b" once each, a class it never learned has p = 0, clipped to 2^-52.
    std::unique_ptr<core::Model> soft = spec_model(R"({"model": "softmax_regression"})");
    EXPECT_TRUE(std::isnan(core::example_loss(*soft, num({{"a", 1}}), Label::of_text("a"))));
    soft->learn(num({{"a", 1}}), Label::of_text("a"));
    soft->learn(num({{"a", -1}}), Label::of_text("b"));
    EXPECT_NEAR(core::example_loss(*soft, num({{"a", 1}}), Label::of_text("zzz")), -std::log(2.220446049250313e-16), 1e-9);
    std::vector<double> p;
    soft->predict_proba(num({{"a", 1}}), p);
    EXPECT_NEAR(core::example_loss(*soft, num({{"a", 1}}), Label::of_text("b")), -std::log(p[1]), 1e-15);
    // Clustering has no loss.
    std::unique_ptr<core::Model> km = spec_model(R"({"model": "kmeans", "n_clusters": 2})");
    EXPECT_EQ(core::loss_of_task(km->task()), LossKind::None);
    EXPECT_TRUE(std::isnan(core::example_loss(*km, num({{"a", 1}}), Label::none())));
}

TEST(LossMean, SkipsRowsWithoutALoss) {
    core::LossMean m;
    EXPECT_TRUE(std::isnan(m.mean()));
    m.add(1);
    m.add(kNaN);
    m.add(3);
    EXPECT_EQ(m.count, 2u);
    EXPECT_DOUBLE_EQ(m.mean(), 2.0);
}

TEST(EarlyStopping, ImprovementIsRelative) {
    EXPECT_TRUE(core::improves(5.0, kNaN));  // the first loss
    EXPECT_FALSE(core::improves(kNaN, 5.0));
    EXPECT_FALSE(core::improves(0.99995, 1.0));  // less than 1e-4 of 1.0 better
    EXPECT_TRUE(core::improves(0.9998, 1.0));
    EXPECT_FALSE(core::improves(999.95, 1000.0));
    EXPECT_TRUE(core::improves(999.8, 1000.0));
    EXPECT_FALSE(core::improves(0.0, 0.0));
}

// A training whose rows return scripted losses and whose validation returns a scripted series.
struct Scripted {
    std::vector<double> row_loss;     // by row index
    std::vector<double> validation;   // by epoch
    std::vector<size_t> visits;
    std::vector<int> kept;            // epochs at which keep_best was called
    int epoch = 0;
    TrainingHooks hooks() {
        TrainingHooks h;
        h.learn_row = [this](size_t i) {
            visits.push_back(i);
            return row_loss[i];
        };
        h.validate = [this]() { return validation[static_cast<size_t>(epoch - 1)]; };
        h.keep_best = [this]() { kept.push_back(epoch); };
        h.every_so_often = [this](int e, uint64_t) { epoch = e; };
        return h;
    }
};

TEST(TrainEpochs, RecordsMeansAndStopsAfterPatience) {
    Scripted s;
    s.row_loss = {1.0, 2.0, kNaN};
    s.validation = {5.0, 4.0, 4.5, 3.9999, 3.0, 1.0};
    TrainingPlan plan;
    plan.rows = 3;
    plan.epochs = 6;
    plan.shuffle = false;
    plan.patience = 2;
    plan.validation = true;
    plan.validation_rows = 7;
    plan.loss = LossKind::SquaredError;
    const TrainingHistory h = core::train_epochs(plan, s.hooks());
    // Epoch 2 is the best (4.0); epoch 3 is worse and epoch 4 better by less than 1e-4 * 4:
    // two epochs without improvement, so training stops after epoch 4.
    EXPECT_EQ(h.epochs, 6u);
    EXPECT_EQ(h.epochs_run, 4u);
    EXPECT_TRUE(h.stopped_early);
    EXPECT_EQ(h.best_epoch, 2u);
    EXPECT_EQ(s.kept, (std::vector<int>{1, 2}));
    ASSERT_EQ(h.records.size(), 4u);
    for (const core::EpochRecord& r : h.records) EXPECT_DOUBLE_EQ(r.train_loss, 1.5);  // (1 + 2) / 2
    EXPECT_DOUBLE_EQ(h.records[3].validation_loss, 3.9999);
    EXPECT_EQ(h.rows, 3u);
    EXPECT_EQ(h.validation_rows, 7u);
    EXPECT_EQ(h.invalid(), "");
    EXPECT_EQ(s.visits.size(), 12u);
}

TEST(TrainEpochs, SameOrderAsRunEpochs) {
    Scripted s;
    s.row_loss.assign(50, 1.0);
    TrainingPlan plan;
    plan.rows = 50;
    plan.epochs = 3;
    plan.seed = 7;
    plan.loss = LossKind::SquaredError;
    core::train_epochs(plan, s.hooks());
    std::vector<size_t> expected;
    core::run_epochs(50, 3, true, 7, [&](size_t i) { expected.push_back(i); }, [] {});
    EXPECT_EQ(s.visits, expected);
}

TEST(TrainEpochs, WithoutValidationPatienceWatchesTrainingLoss) {
    // Training losses by epoch 3, 2, 2, 2: stops after epoch 4 with patience 2, best epoch 2.
    int epoch = 0;
    const double per_epoch[] = {3, 2, 2, 2, 1};
    TrainingHooks hooks;
    std::vector<int> kept;
    hooks.learn_row = [&](size_t) { return per_epoch[epoch - 1]; };
    hooks.keep_best = [&] { kept.push_back(epoch); };
    hooks.every_so_often = [&](int e, uint64_t) { epoch = e; };
    TrainingPlan plan;
    plan.rows = 2;
    plan.epochs = 5;
    plan.patience = 2;
    plan.loss = LossKind::LogLoss;
    const TrainingHistory h = core::train_epochs(plan, hooks);
    EXPECT_EQ(h.epochs_run, 4u);
    EXPECT_TRUE(h.stopped_early);
    EXPECT_EQ(h.best_epoch, 2u);
    EXPECT_EQ(kept, (std::vector<int>{1, 2}));
    EXPECT_TRUE(std::isnan(h.records[0].validation_loss));
    // Patience that ends with the last epoch is not an early stop.
    plan.epochs = 4;
    epoch = 0;
    EXPECT_FALSE(core::train_epochs(plan, hooks).stopped_early);
}

TEST(TrainEpochs, BadPlansAreRefused) {
    Scripted s;
    s.row_loss = {1.0};
    TrainingPlan plan;
    plan.rows = 1;
    plan.loss = LossKind::SquaredError;
    plan.epochs = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { core::train_epochs(plan, s.hooks()); });
    plan.epochs = 2;
    plan.patience = -1;
    expect_error(ErrorKind::InvalidParameter, [&] { core::train_epochs(plan, s.hooks()); });
    plan.patience = 1;
    plan.loss = LossKind::None;  // early stopping needs a loss
    expect_error(ErrorKind::InvalidParameter, [&] { core::train_epochs(plan, s.hooks()); });
}

TEST(TrainEpochs, KeepsTheLast1000Epochs) {
    int epoch = 0;
    TrainingHooks hooks;
    hooks.learn_row = [&](size_t) { return static_cast<double>(epoch); };
    hooks.every_so_often = [&](int e, uint64_t) { epoch = e; };
    TrainingPlan plan;
    plan.rows = 1;
    plan.epochs = 1005;
    plan.shuffle = false;
    plan.loss = LossKind::SquaredError;
    const TrainingHistory h = core::train_epochs(plan, hooks);
    ASSERT_EQ(h.records.size(), core::kMaxHistoryEpochs);
    EXPECT_EQ(h.first_epoch(), 6u);
    EXPECT_DOUBLE_EQ(h.records.front().train_loss, 6.0);
    EXPECT_DOUBLE_EQ(h.records.back().train_loss, 1005.0);
    EXPECT_EQ(h.invalid(), "");
}

// A linear regression (release 0.1.0's defaults: plain SGD, lr and intercept_lr 0.01) over rows
// (a=1, y=2), (a=2, y=1): row 1 is predicted 0 (loss 4), then w = b = 0.01 * 2 * 2 = 0.04; row
// 2 is predicted 0.04 * 2 + 0.04 = 0.12 (loss 0.88^2 = 0.7744). Epoch 1's loss: 2.3872.
TEST(TrainEpochs, HandComputedProgressiveLoss) {
    core::LinearModel m = model_of(R"({"model": "linear_regression"})");
    const std::vector<core::Observation> x = {num({{"a", 1}}), num({{"a", 2}})};
    const std::vector<double> y = {2, 1};
    TrainingHooks hooks;
    hooks.learn_row = [&](size_t i) {
        const double l = core::example_loss(m, x[i], Label::of_number(y[i]));
        m.learn(x[i], Label::of_number(y[i]));
        return l;
    };
    TrainingPlan plan;
    plan.rows = 2;
    plan.epochs = 1;
    plan.loss = core::loss_of_task(m.task());
    const TrainingHistory h = core::train_epochs(plan, hooks);
    EXPECT_NEAR(h.records[0].train_loss, (4.0 + 0.7744) / 2, 1e-12);
}

// ---- the value's forms ---------------------------------------------------------------------

TrainingHistory sample_history() {
    TrainingHistory h;
    h.loss = LossKind::LogLoss;
    h.epochs = 10;
    h.epochs_run = 3;
    h.patience = 2;
    h.stopped_early = true;
    h.best_epoch = 1;
    h.rows = 100;
    h.validation_rows = 20;
    h.records = {{0.7, 0.69}, {0.5, 0.71}, {0.4, kNaN}};
    return h;
}

std::string bytes_of(const core::Model& m, const TrainingHistory* h) {
    std::string out(core::model_value_size(m, h), '\0');
    core::encode_model_value(m, h, reinterpret_cast<uint8_t*>(out.data()), out.size());
    return out;
}

const uint8_t* raw(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(HistoryFormat, RoundTripsAndOldValuesDecode) {
    core::LinearModel m = model_of(R"({"model": "logistic_regression"})");
    m.learn(num({{"a", 1}}), Label::of_number(1));
    const TrainingHistory h = sample_history();
    const std::string v2 = bytes_of(m, &h);
    const std::string v1 = bytes_of(m, nullptr);
    // Format 2: the model's bytes, then 56 + 16 per epoch bytes of history, then the 8-byte offset.
    EXPECT_EQ(v2.size(), v1.size() + 56 + 3 * 16 + 8);
    uint16_t version = 0;
    std::memcpy(&version, v2.data() + 4, 2);
    EXPECT_EQ(version, 2);
    std::memcpy(&version, v1.data() + 4, 2);
    EXPECT_EQ(version, 1);
    TrainingHistory back;
    bool has = false;
    std::unique_ptr<core::Model> m2 = core::decode_model_value(raw(v2), v2.size(), &back, &has);
    EXPECT_TRUE(has);
    EXPECT_TRUE(back == h);
    EXPECT_EQ(bytes_of(*m2, nullptr), v1);  // the same model
    EXPECT_EQ(bytes_of(*m2, &back), v2);    // encode(decode(v)) == v
    // A value of format 1 decodes as before, without history; decode_model refuses format 2.
    std::unique_ptr<core::Model> m1 = core::decode_model_value(raw(v1), v1.size(), &back, &has);
    EXPECT_FALSE(has);
    EXPECT_EQ(bytes_of(*m1, nullptr), v1);
    expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model(raw(v2), v2.size()); });
    // The text form carries the history too, and reads back to the same bytes.
    const std::string text = core::model_value_to_json(m, &h).dump();
    std::unique_ptr<core::Model> m3 = core::model_value_from_text(text.data(), text.size(), &back, &has);
    EXPECT_TRUE(has);
    EXPECT_EQ(bytes_of(*m3, &back), v2);
    const nlohmann::json j = nlohmann::json::parse(text)["training_history"];
    EXPECT_EQ(j["history"][2]["validation_loss"], nullptr);
    EXPECT_EQ(j["history"][1]["epoch"], 2);
    EXPECT_EQ(j["best_epoch"], 1);
}

TEST(HistoryFormat, CorruptValuesAreRefused) {
    core::LinearModel m = model_of(R"({"model": "linear_regression"})");
    TrainingHistory h = sample_history();
    h.loss = LossKind::SquaredError;
    const std::string v = bytes_of(m, &h);
    auto refused = [](std::string b, bool reseal) {
        if (reseal) core::seal_envelope(reinterpret_cast<uint8_t*>(b.data()), b.size());
        expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model_value(raw(b), b.size(), nullptr); });
    };
    // Every truncation, and a flipped byte anywhere (the checksum covers the history).
    for (size_t n = 0; n < v.size(); n += 8) refused(v.substr(0, n), false);
    for (size_t i = 0; i < v.size(); i++) {
        if (i >= core::kEnvelopeChecksumOffset && i < core::kEnvelopeChecksumOffset + 8) continue;
        std::string b = v;
        b[i] = static_cast<char>(b[i] ^ 0x10);
        refused(b, false);
    }
    const size_t at = v.size() - 8 - (56 + 3 * 16);  // the history block
    // Resealed, so that only the content is wrong: magic, epochs_run > epochs, an unknown flag,
    // a negative loss, a NaN of another bit pattern, a wrong offset.
    std::string b = v;
    b[at] = 'X';
    refused(b, true);
    b = v;
    const uint32_t big = 11;
    std::memcpy(&b[at + 12], &big, 4);
    refused(b, true);
    b = v;
    b[at + 7] = 2;
    refused(b, true);
    b = v;
    const double neg = -1;
    std::memcpy(&b[at + 56], &neg, 8);
    refused(b, true);
    b = v;
    const uint64_t other_nan = 0xfff8000000000000ull;
    std::memcpy(&b[at + 56 + 2 * 16 + 8], &other_nan, 8);
    refused(b, true);
    b = v;
    const uint64_t off = 8;
    std::memcpy(&b[b.size() - 8], &off, 8);
    refused(b, true);
    // A newer format version is refused with a message saying so.
    b = v;
    b[4] = 3;
    EXPECT_NE(expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model_value(raw(b), b.size(), nullptr); })
                  .find("newer"),
              std::string::npos);
}

TEST(HistoryFormat, InvalidHistoriesAreNotStored) {
    core::LinearModel m = model_of(R"({"model": "linear_regression"})");
    TrainingHistory h = sample_history();
    h.records[0].train_loss = std::numeric_limits<double>::infinity();
    expect_error(ErrorKind::NumericRange, [&] { bytes_of(m, &h); });
    h = sample_history();
    h.validation_rows = 0;  // validation losses without validation rows
    expect_error(ErrorKind::NumericRange, [&] { bytes_of(m, &h); });
    h = sample_history();
    h.patience = 0;  // stopped early without patience
    expect_error(ErrorKind::NumericRange, [&] { bytes_of(m, &h); });
}

}  // namespace
}  // namespace pg_learn::test
