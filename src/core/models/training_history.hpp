// An ml_model value with the training history ml_train recorded (docs/format.md, "Training
// history"): the model's own bytes, then the history block, under one envelope.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"
#include "core/models/training.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// The envelope's format version of a value that carries a training history. Format 1 values
// (every model without one) are written and read as before.
inline constexpr uint16_t kModelWithHistoryVersion = 2;

// The history block's binary form (without the value's footer), and back (validated).
std::string encode_history(const TrainingHistory& h);
TrainingHistory decode_history(const uint8_t* data, size_t size);

// The binary form of a model and, when h is not null, its history.
size_t model_value_size(const Model& m, const TrainingHistory* h);
void encode_model_value(const Model& m, const TrainingHistory* h, uint8_t* out, size_t size);
// A model from its binary form, format 1 or 2 (validated completely); its history into *h
// (cleared when there is none; may be null).
std::unique_ptr<Model> decode_model_value(const uint8_t* data, size_t size, TrainingHistory* h,
                                          bool* has_history = nullptr);
// The text form: the model's JSON object, plus "training_history" when it has one.
nlohmann::json model_value_to_json(const Model& m, const TrainingHistory* h);
std::unique_ptr<Model> model_value_from_text(const char* text, size_t len, TrainingHistory* h, bool* has_history);

}  // namespace pg_learn::core
