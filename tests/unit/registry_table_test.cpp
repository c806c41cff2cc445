// The model-type registry: completeness against transformers 4.44.2, uniqueness,
// family coverage, derived support status.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "registry/model_types.h"
#include "templates/family.h"

using namespace ia;

TEST(RegistryTable, HasEveryConfigMappingEntry) {
  // 264 = number of keys of CONFIG_MAPPING_NAMES in transformers 4.44.2
  // (src/transformers/models/auto/configuration_auto.py), counted by parsing that file.
  EXPECT_EQ(kTransformers4442ModelTypeCount, 264u);
  EXPECT_EQ(model_type_table().size(), kTransformers4442ModelTypeCount);
}

TEST(RegistryTable, SameNamesInSameOrderAsTransformers) {
  // FNV-1a 64 of every CONFIG_MAPPING_NAMES key of transformers 4.44.2, in file order,
  // each followed by '\n' (computed in Python from configuration_auto.py). Catches a
  // renamed, dropped or reordered entry that the count alone would not.
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  };
  for (const auto& e : model_type_table()) {
    for (const char* p = e.model_type; *p; ++p) mix(*p);
    mix('\n');
  }
  EXPECT_EQ(h, 0x82b0c0bf089b1a62ull);
}

TEST(RegistryTable, NoDuplicatesAndLookupFindsEach) {
  std::set<std::string> seen;
  for (const auto& e : model_type_table()) {
    EXPECT_TRUE(seen.insert(e.model_type).second) << "duplicate " << e.model_type;
    EXPECT_EQ(find_model_type(e.model_type), &e);
  }
  EXPECT_EQ(find_model_type("not-a-model-type"), nullptr);
  EXPECT_EQ(find_model_type(""), nullptr);
  EXPECT_EQ(find_model_type("olmoe"), nullptr);  // arrived in 4.45, not 4.44.2
}

TEST(RegistryTable, EntriesAreComplete) {
  for (const auto& e : model_type_table()) {
    EXPECT_GT(std::string(e.display_name).size(), 0u) << e.model_type;
    EXPECT_GT(std::string(e.default_task).size(), 0u) << e.model_type;
    if (e.family == Family::Other) EXPECT_GT(std::string(e.note).size(), 0u) << e.model_type << " needs a reason";
  }
}

TEST(RegistryTable, EachOfTheElevenFamiliesIsNonEmpty) {
  std::map<Family, int> n;
  for (const auto& e : model_type_table()) n[e.family]++;
  ASSERT_EQ(all_families().size(), 11u);
  for (Family f : all_families()) EXPECT_GT(n[f], 0) << family_name(f);
}

TEST(RegistryTable, FamilyDecisions) {
  const std::map<std::string, Family> expect = {
      {"bert", Family::EncoderOnly},        {"dpr", Family::EncoderOnly},
      {"gpt2", Family::DecoderOnly},        {"llama", Family::DecoderOnly},
      {"t5", Family::EncoderDecoder},       {"bart", Family::EncoderDecoder},
      {"vit", Family::Vision},              {"convnext", Family::Vision},
      {"deit", Family::Vision},             {"clip", Family::VisionText},
      {"blip", Family::VisionText},         {"siglip", Family::VisionText},
      {"owlvit", Family::VisionText},       {"whisper", Family::Speech},
      {"wav2vec2", Family::Speech},         {"hubert", Family::Speech},
      {"llava", Family::Multimodal},        {"llava_next", Family::Multimodal},
      {"idefics", Family::Multimodal},      {"idefics2", Family::Multimodal},
      {"paligemma", Family::Multimodal},    {"blip-2", Family::Multimodal},
      {"sam", Family::Diffusion},           {"mixtral", Family::MixtureOfExperts},
      {"qwen2_moe", Family::MixtureOfExperts}, {"switch_transformers", Family::MixtureOfExperts},
      {"dbrx", Family::MixtureOfExperts},   {"nllb-moe", Family::MixtureOfExperts},
      {"jetmoe", Family::MixtureOfExperts}, {"mamba", Family::StateSpace},
      {"mamba2", Family::StateSpace},       {"rwkv", Family::StateSpace},
      {"recurrent_gemma", Family::StateSpace}, {"jamba", Family::StateSpace},
      {"rag", Family::Rag},                 {"realm", Family::Rag},
      {"autoformer", Family::Other},        {"time_series_transformer", Family::Other},
      {"graphormer", Family::Other},        {"decision_transformer", Family::Other},
  };
  for (const auto& [type, fam] : expect) {
    const ModelTypeInfo* e = find_model_type(type);
    ASSERT_NE(e, nullptr) << type;
    EXPECT_EQ(e->family, fam) << type << " is " << family_name(e->family);
  }
}

TEST(RegistryTable, SupportStatusIsDerivedFromTemplates) {
  for (const auto& t : supported_model_types()) EXPECT_NE(find_model_type(t), nullptr) << t << " missing from table";
  std::size_t supported = 0;
  for (const auto& e : model_type_table()) {
    bool has = find_template(e.model_type) != nullptr;
    EXPECT_EQ(support_status(e) == SupportStatus::Supported, has) << e.model_type;
    supported += has ? 1 : 0;
  }
  EXPECT_EQ(supported, supported_model_types().size());
}

TEST(RegistryTable, CoverageSummaryAddsUp) {
  CoverageSummary s = coverage_summary();
  EXPECT_EQ(s.total, kTransformers4442ModelTypeCount);
  ASSERT_EQ(s.families.size(), 12u);  // the 11 + other
  std::size_t total = 0, sup = 0;
  for (const auto& f : s.families) {
    total += f.total;
    sup += f.supported;
    EXPECT_LE(f.supported, f.total);
  }
  EXPECT_EQ(total, s.total);
  EXPECT_EQ(sup, s.supported);
  EXPECT_EQ(s.supported, supported_model_types().size());
  EXPECT_EQ(s.families.back().family, Family::Other);
}

TEST(RegistryTable, FamilyNamesRoundTrip) {
  for (Family f : all_families()) {
    Family g;
    ASSERT_TRUE(family_from_name(family_name(f), &g));
    EXPECT_EQ(f, g);
  }
  Family g;
  EXPECT_FALSE(family_from_name("vision-encoder-text-decoder", &g));
}
