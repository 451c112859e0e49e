// Online k-means (river's cluster.KMeans): the family of kind "kmeans" (task clustering).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <vector>

namespace pg_learn::core {

// The kinds of the k-means family, for models/families.cpp.
const std::vector<const ModelFamily*>& kmeans_families();

}  // namespace pg_learn::core
