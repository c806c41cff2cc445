// `bench` for the vision family (ViT, CLIP's vision tower): images/s of forward()
// over a batch of random pixel_values at the configured image size.
#pragma once
#include <nlohmann/json.hpp>

#include "bench/bench_runner.h"

namespace ia::bench {

nlohmann::json bench_vision_model(Model& model, const BenchTarget& target, const BenchOptions& opts);

}  // namespace ia::bench
