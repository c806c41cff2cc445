// HFConfig getters, defaults and errors; python_json_compat; load_model's
// handling of unknown model types and broken directories.
#include <gtest/gtest.h>

#include <cmath>

#include "formats/hf_config.h"
#include "formats_test_util.h"
#include "templates/family.h"
#include "templates/model.h"

namespace ia {
namespace {

using test::expect_error;
using json = nlohmann::json;

HFConfig cfg(const std::string& text) { return HFConfig::from_json(json::parse(text), "cfg.json"); }

TEST(FormatsConfig, TypedGettersAndDefaults) {
  HFConfig c = cfg(R"({"n": 12, "f": 0.5, "fi": 3, "fl_int": 4.0, "b": true, "s": "gelu", "l": [1, 2, 3],
                       "one": 7, "nul": null, "neg": -5})");
  EXPECT_EQ(c.get_int("n"), 12);
  EXPECT_EQ(c.get_int("neg"), -5);
  EXPECT_EQ(c.get_int("fl_int"), 4);  // 4.0 is an integer value written as float
  EXPECT_EQ(c.get_int("missing", 9), 9);
  EXPECT_EQ(c.get_int("nul", 9), 9);  // null counts as absent
  EXPECT_DOUBLE_EQ(c.get_float("f"), 0.5);
  EXPECT_DOUBLE_EQ(c.get_float("fi"), 3.0);
  EXPECT_DOUBLE_EQ(c.get_float("missing", 1e-5), 1e-5);
  EXPECT_TRUE(c.get_bool("b"));
  EXPECT_FALSE(c.get_bool("missing", false));
  EXPECT_EQ(c.get_string("s"), "gelu");
  EXPECT_EQ(c.get_string("missing", "relu"), "relu");
  EXPECT_EQ(c.get_int_list("l"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(c.get_int_list("one"), (std::vector<int64_t>{7}));
  EXPECT_TRUE(c.get_int_list("missing").empty());
  EXPECT_TRUE(c.get_int_list("nul").empty());
  EXPECT_TRUE(c.has("n"));
  EXPECT_FALSE(c.has("nul"));
  EXPECT_FALSE(c.has("missing"));
}

TEST(FormatsConfig, MissingRequiredField) {
  HFConfig c = cfg(R"({"nul": null})");
  expect_error([&] { c.get_int("hidden_size"); }, {"cfg.json", "missing required field 'hidden_size'"});
  expect_error([&] { c.get_float("layer_norm_eps"); }, {"cfg.json", "'layer_norm_eps'"});
  expect_error([&] { c.get_bool("tie_word_embeddings"); }, {"cfg.json", "'tie_word_embeddings'"});
  expect_error([&] { c.get_string("model_type"); }, {"cfg.json", "missing required field 'model_type'"});
  expect_error([&] { c.get_int("nul"); }, {"cfg.json", "missing required field 'nul'"});
}

TEST(FormatsConfig, WrongTypes) {
  HFConfig c = cfg(R"({"s": "abc", "f": 4.5, "i": 3, "b": 1, "l": [1, "x"], "o": {"a": 1}, "big": 1e20,
                       "huge_u": 18446744073709551615})");
  expect_error([&] { c.get_int("s"); }, {"cfg.json", "field 's' must be an integer", "\"abc\""});
  expect_error([&] { c.get_int("f"); }, {"cfg.json", "field 'f' must be an integer", "4.5"});
  expect_error([&] { c.get_int("s", 0); }, {"cfg.json", "field 's'"});  // a default does not hide a wrong type
  expect_error([&] { c.get_float("s"); }, {"cfg.json", "field 's' must be a number"});
  expect_error([&] { c.get_bool("b"); }, {"cfg.json", "field 'b' must be true or false"});
  expect_error([&] { c.get_string("i"); }, {"cfg.json", "field 'i' must be a string"});
  expect_error([&] { c.get_int_list("l"); }, {"cfg.json", "field 'l' must be an integer or a list"});
  expect_error([&] { c.get_int_list("s"); }, {"cfg.json", "field 's'"});
  expect_error([&] { c.sub("s"); }, {"cfg.json", "field 's' must be an object"});
  // Integers beyond int64 are errors rather than wrapped or undefined conversions.
  expect_error([&] { c.get_int("big"); }, {"cfg.json", "field 'big' must be an integer"});
  expect_error([&] { c.get_int("huge_u"); }, {"cfg.json", "field 'huge_u' must be an integer"});
  expect_error([&] { cfg(R"({"l": [18446744073709551615]})").get_int_list("l"); }, {"cfg.json", "field 'l'"});
}

TEST(FormatsConfig, ErrorsSummariseLargeValues) {
  // 200000 levels of nesting: printing it recursively would overflow the stack.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  HFConfig c = cfg("{\"x\": " + deep + ", \"o\": {\"a\": 1, \"b\": 2}, \"s\": \"" + std::string(5000, 'z') + "\"}");
  std::string m = expect_error([&] { c.get_int("x"); }, {"cfg.json", "field 'x' must be an integer", "a list of 1 entries"});
  EXPECT_LT(m.size(), 200u);
  expect_error([&] { c.get_string("o"); }, {"field 'o' must be a string", "an object with 2 fields"});
  m = expect_error([&] { c.get_int("s"); }, {"field 's' must be an integer", "zzz..."});
  EXPECT_LT(m.size(), 200u);
}

TEST(FormatsConfig, ParseRejectsAbsurdNesting) {
  std::string deep = "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_error([&] { HFConfig::parse(deep, "deep.json"); }, {"deep.json", "nested more than 64 levels"});
  std::string ok = "{\"x\": " + std::string(20, '[') + std::string(20, ']') + "}";
  EXPECT_TRUE(HFConfig::parse(ok, "ok.json").raw()["x"].is_array());
  expect_error([&] { HFConfig::parse("[]", "arr.json"); }, {"arr.json", "not a JSON object"});
  expect_error([&] { HFConfig::parse("{", "trunc.json"); }, {"trunc.json", "malformed JSON"});
  EXPECT_FALSE(HFConfig::parse(R"({"a": NaN})", "nan.json").has("a"));
}

TEST(FormatsConfig, AliasesPickFirstPresentKey) {
  HFConfig gpt2 = cfg(R"({"n_embd": 768, "n_head": 12})");
  HFConfig bert = cfg(R"({"hidden_size": 1024, "n_embd": null})");
  EXPECT_EQ(gpt2.get_int_any({"n_embd", "hidden_size"}), 768);
  EXPECT_EQ(bert.get_int_any({"n_embd", "hidden_size"}), 1024);
  EXPECT_EQ(*gpt2.first_of({"hidden_size", "n_embd"}), "n_embd");
  EXPECT_FALSE(gpt2.first_of({"d_model"}).has_value());
  EXPECT_EQ(gpt2.get_int_any({"num_attention_heads", "n_head"}, 1), 12);
  EXPECT_EQ(gpt2.get_int_any({"num_key_value_heads"}, 12), 12);
  expect_error([&] { bert.get_int_any({"d_model", "n_embd"}); }, {"cfg.json", "'d_model' / 'n_embd'"});
}

TEST(FormatsConfig, SubConfigs) {
  HFConfig c = cfg(R"({"text_config": {"hidden_size": 64}, "rope_scaling": null})");
  HFConfig t = c.sub("text_config");
  EXPECT_EQ(t.get_int("hidden_size"), 64);
  EXPECT_NE(t.label().find("cfg.json:text_config"), std::string::npos);
  expect_error([&] { t.get_int("vocab_size"); }, {"cfg.json:text_config", "'vocab_size'"});
  EXPECT_TRUE(c.sub("rope_scaling").raw().empty());
  EXPECT_TRUE(c.sub("vision_config").raw().empty());
}

TEST(FormatsConfig, PythonJsonCompat) {
  std::string in = R"({"a": Infinity, "b": -Infinity, "c": NaN, "d": [0.0, Infinity], "s": "NaN Infinity", "e": "q\"NaN"})";
  json j = json::parse(python_json_compat(in));
  EXPECT_GT(j["a"].get<double>(), 1e308);
  EXPECT_LT(j["b"].get<double>(), -1e308);
  EXPECT_TRUE(j["c"].is_null());
  EXPECT_GT(j["d"][1].get<double>(), 1e308);
  EXPECT_EQ(j["s"], "NaN Infinity");  // strings are left alone
  EXPECT_EQ(j["e"], "q\"NaN");        // including after an escaped quote
  EXPECT_EQ(python_json_compat(""), "");
  EXPECT_EQ(python_json_compat("\"unterminated \\"), "\"unterminated \\");
}

TEST(FormatsConfig, LoadFromDisk) {
  test::ScratchDir d;
  std::string p = d.write("config.json", R"({"time_step_limit": [0.0, Infinity], "eps": NaN, "n": 2})");
  HFConfig c = HFConfig::load(p);
  EXPECT_EQ(c.label(), p);
  EXPECT_EQ(c.get_int("n"), 2);
  EXPECT_FALSE(c.has("eps"));
  EXPECT_TRUE(std::isinf(float(c.raw()["time_step_limit"][1].get<double>())));
  expect_error([&] { c.get_int("time_step_limit"); }, {p, "'time_step_limit'"});
  std::string bad = d.write("bad.json", R"({"n": )");
  expect_error([&] { HFConfig::load(bad); }, {bad, "malformed JSON"});
  std::string arr = d.write("arr.json", "[1]");
  expect_error([&] { HFConfig::load(arr); }, {arr, "not a JSON object"});
  expect_error([&] { HFConfig::load(d.file("none.json")); }, {"none.json", "cannot open"});
  std::string inf_int = d.write("inf.json", R"({"max_position_embeddings": Infinity})");
  expect_error([&] { HFConfig::load(inf_int).get_int("max_position_embeddings"); }, {inf_int, "'max_position_embeddings'"});
}

TEST(FormatsConfig, UnknownModelTypeIsUnsupported) {
  test::ScratchDir d;
  d.write("config.json", R"({"model_type": "frobnicator", "architectures": ["FrobnicatorModel"]})");
  std::string msg;
  try {
    load_model(d.str());
    ADD_FAILURE() << "load_model accepted an unknown model_type";
  } catch (const Unsupported& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("'frobnicator'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("supported model types:"), std::string::npos) << msg;
  for (const auto& t : supported_model_types()) EXPECT_NE(msg.find(t), std::string::npos) << t << " not listed in: " << msg;
}

TEST(FormatsConfig, DiffusersComponentIsUnsupportedNotMalformed) {
  test::ScratchDir d;
  d.write("config.json", R"({"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.3"})");
  std::string msg;
  try {
    load_model(d.str());
    ADD_FAILURE() << "load_model accepted a diffusers component";
  } catch (const Unsupported& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("UNet2DConditionModel"), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
}

TEST(FormatsConfig, BrokenModelDirectories) {
  test::ScratchDir d;
  expect_error([&] { load_model(d.str()); }, {d.str(), "no config.json"});
  d.write("config.json", R"({"architectures": ["BertModel"]})");
  expect_error([&] { load_model(d.str()); }, {"config.json", "missing required field 'model_type'"});
  d.write("config.json", R"({"model_type": 3})");
  expect_error([&] { load_model(d.str()); }, {"config.json", "'model_type' must be a string"});
  d.write("config.json", R"({"model_type": )");
  expect_error([&] { load_model(d.str()); }, {"config.json", "malformed JSON"});
}

}  // namespace
}  // namespace ia
