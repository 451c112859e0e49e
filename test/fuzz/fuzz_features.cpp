// libFuzzer harness: jsonb feature objects. The glue reads a jsonb value through PostgreSQL's
// API (src/pg/common/features.cpp, jsonb_features), which a standalone program cannot link; what
// it passes to the core is a core::Observation filled key by key: a number with add_numeric, a
// string with add_category (the strings "NaN", "Infinity", "-Infinity" refused as the numbers
// to_jsonb wrote), true/false as 1/0, null with add_missing, a nested value refused. This
// harness parses the input as JSON text (nlohmann, which jsonb's parser agrees with on objects
// of scalars; jsonb's last value of a duplicate key wins, so does this mapping's), fills an
// Observation by the same rules, and then does with it what SQL does: checks its features
// against, scores with, explains with and trains one example into models of the linear kinds
// and a pipeline (fresh and trained), and adds it as a row to a profile (ml_profile over jsonb).
// Every refusal is a core::Error; every model and profile that accepted the row round-trips
// (test/fuzz/model_harness.hpp).
#include "model_harness.hpp"
#include "state_harness.hpp"
#include "codecs.hpp"

#include "core/common/envelope.hpp"

#include <nlohmann/json.hpp>

using namespace pg_learn;
using nlohmann::json;

namespace {

// The linear kinds and a pipeline: fresh, and trained on a handful of rows.
const std::vector<std::unique_ptr<core::Model>>& models() {
    static const std::vector<std::unique_ptr<core::Model>> all = [] {
        std::vector<std::unique_ptr<core::Model>> v;
        const char* specs[] = {
            R"({"model":"linear_regression"})",
            R"({"model":"linear_regression","scale":true,"missing":"mean","optimizer":"adagrad"})",
            R"({"model":"logistic_regression","scale":true,"optimizer":"adam"})",
            R"({"model":"logistic_regression","optimizer":"ftrl","hash_bits":4})",
            R"({"model":"softmax_regression","scale":true})",
            R"({"model":"softmax_regression","hash_bits":3,"optimizer":"adam"})",
            // a pipeline's steps that read columns by name (what a feature object feeds)
            R"({"pipeline":[{"target_agg":{"by":"c","how":"mean"}},{"binning":{"column":"b","edges":[0,1]}},{"model":"logistic_regression"}]})",
        };
        for (const char* s : specs) {
            std::unique_ptr<core::Model> fresh = core::model_from_text(s, std::strlen(s));
            std::unique_ptr<core::Model> trained = fresh->clone();
            for (unsigned i = 0; i < 8; i++) {
                core::Observation x;
                x.add_numeric("a", i * 0.5);
                x.add_numeric("b", 3.0 - i);
                x.add_category("c", i % 2 ? "u" : "v");
                const core::Task t = trained->task();
                trained->learn(x, t == core::Task::Multiclass ? core::Label::of_text(i % 3 ? "a" : "b")
                                  : t == core::Task::Binary   ? core::Label::of_number(i % 2)
                                                              : core::Label::of_number(0.5 * i));
            }
            v.push_back(std::move(fresh));
            v.push_back(std::move(trained));
        }
        return v;
    }();
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text = fuzz::c_string(data, size);
    if (core::json_too_deep(text.data(), text.size(), 64)) return 0;
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return 0;  // the glue refuses a non-object itself

    core::Observation x;
    core::Profile profile;
    const bool filled = fuzz::accepts([&] {
        profile.start_row();
        for (const auto& [key, value] : j.items()) {
            if (value.is_number()) {
                const double v = value.get<double>();
                profile.add_number(key, v);
                x.add_numeric(key, v);
            } else if (value.is_string()) {
                const std::string& s = value.get_ref<const std::string&>();
                profile.add_string(key, s);
                if (s == "NaN" || s == "Infinity" || s == "-Infinity")
                    core::fail(core::ErrorKind::NumericRange, "feature is not finite");
                x.add_category(key, s);
            } else if (value.is_boolean()) {
                profile.add_boolean(key, value.get<bool>());
                x.add_numeric(key, value.get<bool>() ? 1.0 : 0.0);
            } else if (value.is_null()) {
                profile.add_null(key);
                x.add_missing(key);
            } else {
                profile.add_nested(key);
                core::fail(core::ErrorKind::InvalidParameter, "feature is a nested object or array");
            }
        }
    });
    // The profile took every key before any refusal of the observation's: it round-trips.
    std::string encoded;
    if (fuzz::accepts([&] { encoded = profile.encode(); })) fuzz::check_round_trips<fuzz::ProfileCodec>(profile, encoded);
    if (!filled) return 0;
    for (const auto& m : models()) fuzz::use_model(*m, x, size);
    return 0;
}
