// Cached greedy generation equals uncached decoder runs (the whole prefix fed
// through forward()), and a right-padded encoder batch row equals the row run
// on its own.
#include <gtest/gtest.h>

#include "encdec_test_util.h"

using namespace ia;
using namespace encdec_test;

TEST(EncDecCache, GenerateStepLogitsEqualUncachedForward) {
  for (const auto& d : fixture_dirs()) {
    auto m = load(d);
    const int64_t V = m->params().vocab, S = 6, N = 6;
    std::vector<int64_t> src = {11, 23, 35, 47, 59, 71};
    GenerateOptions o;
    o.max_new_tokens = N;
    o.eos_stops = false;
    TensorMap g = m->generate({{"input_ids", ids(src, 1, S)}}, o);
    const Tensor& seq = g.at("sequences");
    ASSERT_EQ(seq.dim(1), 1 + N) << d;
    const Tensor& sl = g.at("step_logits");
    ASSERT_EQ(sl.dim(1), N) << d;
    // Uncached: decoder_input_ids = sequences[:, :-1] in one pass; row i predicts token i+1.
    std::vector<int64_t> prefix(seq.i64(), seq.i64() + N);
    TensorMap f = m->forward({{"input_ids", ids(src, 1, S)}, {"decoder_input_ids", ids(prefix, 1, N)}});
    const Tensor& lg = f.at("logits");
    EXPECT_LT(max_diff(lg.f32(), sl.f32(), N * V), 1e-4) << d;
    // Greedy tokens are the argmax of the step logits (no processors in these fixtures).
    for (int64_t s = 0; s < N; ++s) {
      const float* r = sl.f32() + s * V;
      EXPECT_EQ(seq.i64()[1 + s], int64_t(std::max_element(r, r + V) - r)) << d << " step " << s;
    }
  }
}

TEST(EncDecCache, StepByStepDecodeEqualsOnePass) {
  for (const auto& d : fixture_dirs()) {
    auto m = load(d);
    const int64_t V = m->params().vocab, S = 5, T = 5;
    std::vector<int64_t> src = {3, 14, 15, 92, 65}, tgt = {m->generate_config().decoder_start_id.value_or(0), 7, 9, 11, 13};
    m->encode(src.data(), nullptr, 1, S);
    m->start_decoding(T);
    std::vector<float> stepped;
    for (int64_t t = 0; t < T; ++t) {
      const float* l = m->decode(&tgt[size_t(t)], 1);
      stepped.insert(stepped.end(), l, l + V);
    }
    EXPECT_EQ(m->decoded_length(), T);
    m->start_decoding(T);  // restarts the self-attention cache, reuses the encoder output
    const float* all = m->decode(tgt.data(), T);
    EXPECT_LT(max_diff(all, stepped.data(), T * V), 1e-4) << d;
  }
}

TEST(EncDecPadding, RightPaddedRowEqualsUnpaddedRun) {
  for (const auto& d : fixture_dirs()) {
    auto m = load(d);
    const int64_t V = m->params().vocab, D = m->params().d_model, S = 8, T = 3;
    const int64_t pad = m->generate_config().pad_id.value_or(0);
    std::vector<int64_t> a = {5, 17, 29, 41, 53, 65, 77, 89}, b = {9, 21, 33, 45, 57};
    std::vector<int64_t> batch = a, mask(size_t(2 * S), 1);
    batch.insert(batch.end(), b.begin(), b.end());
    for (int64_t i = int64_t(b.size()); i < S; ++i) {
      batch.push_back(pad);
      mask[size_t(S + i)] = 0;
    }
    std::vector<int64_t> dec = {2, 40, 60, 2, 70, 80};
    TensorMap both = m->forward({{"input_ids", ids(batch, 2, S)},
                                 {"attention_mask", ids(mask, 2, S)},
                                 {"decoder_input_ids", ids(dec, 2, T)}});
    TensorMap alone = m->forward({{"input_ids", ids(b, 1, int64_t(b.size()))},
                                  {"decoder_input_ids", ids({2, 70, 80}, 1, T)}});
    EXPECT_LT(max_diff(both.at("logits").f32() + T * V, alone.at("logits").f32(), T * V), 1e-4) << d;
    EXPECT_LT(max_diff(both.at("encoder_last_hidden_state").f32() + S * D, alone.at("encoder_last_hidden_state").f32(),
                       int64_t(b.size()) * D),
              1e-4)
        << d;

    // Generation of the padded row matches generation of the row alone.
    GenerateOptions o;
    o.max_new_tokens = 4;
    o.eos_stops = false;
    TensorMap gb = m->generate({{"input_ids", ids(batch, 2, S)}, {"attention_mask", ids(mask, 2, S)}}, o);
    TensorMap ga = m->generate({{"input_ids", ids(b, 1, int64_t(b.size()))}}, o);
    for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(gb.at("sequences").i64()[5 + t], ga.at("sequences").i64()[t]) << d;
    EXPECT_LT(max_diff(gb.at("step_logits").f32() + 4 * V, ga.at("step_logits").f32(), 4 * V), 1e-4) << d;
  }
}

TEST(EncDecCache, ExternalEncoderOutputDecodesTheSame) {
  // set_encoder_output (the hook for decoders fed by another encoder) gives the
  // same logits as encode() with the same states and mask.
  for (const auto& d : fixture_dirs()) {
    auto a = load(d), b = load(d);
    const int64_t V = a->params().vocab, D = a->params().d_model, S = 6, T = 3;
    std::vector<int64_t> src = {11, 23, 35, 47, 59, 71}, mask = {1, 1, 1, 1, 0, 0};
    std::vector<int64_t> tgt = {a->generate_config().decoder_start_id.value_or(0), 5, 6};
    const float* h = a->encode(src.data(), mask.data(), 1, S);
    std::vector<float> states(h, h + S * D);
    a->start_decoding(T);
    const float* la = a->decode(tgt.data(), T);
    std::vector<float> ref(la, la + T * V);
    b->set_encoder_output(states.data(), mask.data(), 1, S);
    b->start_decoding(T);
    EXPECT_LT(max_diff(b->decode(tgt.data(), T), ref.data(), T * V), 1e-6) << d;
  }
}

TEST(EncDecCache, StepDecoderInterfaceMatchesGenerate) {
  // The pipeline interface (prefill + decode_step) reproduces generate()'s step logits.
  for (const auto& d : fixture_dirs()) {
    auto m = load(d);
    const int64_t V = m->vocab(), S = 6, N = 4;
    std::vector<int64_t> src = {11, 23, 35, 47, 59, 71};
    GenerateOptions o;
    o.max_new_tokens = N;
    o.eos_stops = false;
    TensorMap g = m->generate({{"input_ids", ids(src, 1, S)}}, o);
    StepDecoder& sd = *m;
    const float* l = sd.prefill(src.data(), nullptr, 1, S, S + N);
    for (int64_t s = 0; s < N; ++s) {
      EXPECT_LT(max_diff(l, g.at("step_logits").f32() + s * V, V), 1e-5) << d << " step " << s;
      int64_t tok = g.at("sequences").i64()[1 + s];
      if (s + 1 < N) l = sd.decode_step(&tok);
    }
  }
}
