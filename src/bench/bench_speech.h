// `bench` for the speech family (Whisper): real-time factor of transcribing one
// 30 s window — the audio encoder over 2 * max_source_positions random mel frames
// plus greedy decoding of --gen-tokens tokens (EOS ignored) with the KV caches.
#pragma once
#include <nlohmann/json.hpp>

#include "bench/bench_runner.h"

namespace ia::bench {

nlohmann::json bench_speech_model(Model& model, const BenchTarget& target, const BenchOptions& opts);

}  // namespace ia::bench
