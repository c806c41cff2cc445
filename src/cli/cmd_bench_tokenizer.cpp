// `ipfs-accelerate bench-tokenizer TOKENIZER_DIR --docs docs.json`: encode and
// decode throughput (MB/s, tokens/s) over a list of documents, single-threaded
// and batched over threads; bench/tokenizer_bench.py runs it beside the Rust
// `tokenizers` and transformers.js peers on the same corpus.
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "core/error.h"
#include "tokenizers/tokenizer.h"

namespace ia::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F>
void parallel_for(size_t n, size_t threads, F&& f) {
  std::vector<std::thread> pool;
  size_t per = (n + threads - 1) / threads;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = t * per; i < std::min(n, (t + 1) * per); ++i) f(i);
    });
  for (auto& th : pool) th.join();
}

}  // namespace

Action add_bench_tokenizer(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench-tokenizer", "Tokenizer encode/decode throughput over a JSON list of documents");
  auto dir = std::make_shared<std::string>();
  auto docs_path = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(2);
  cmd->add_option("tokenizer_dir", *dir, "Directory with tokenizer.json")->required();
  cmd->add_option("--docs", *docs_path, "JSON file: a list of document strings")->required();
  cmd->add_option("--threads", *threads, "Threads for the batched measurements");
  return [=]() {
    std::ifstream in(*docs_path, std::ios::binary);
    IA_CHECK(in.good(), *docs_path, ": cannot open");
    auto j = nlohmann::json::parse(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    std::vector<std::string> docs = j.get<std::vector<std::string>>();
    size_t bytes = 0;
    for (const auto& d : docs) bytes += d.size();
    Tokenizer tok = Tokenizer::from_dir(*dir);
    size_t n_threads = size_t(std::max(1, *threads));
    // Warm-up (as for the peers): the first 100 documents.
    for (size_t i = 0; i < std::min<size_t>(100, docs.size()); ++i) tok.encode(docs[i]);

    std::vector<std::vector<uint32_t>> ids(docs.size());
    auto t0 = std::chrono::steady_clock::now();
    size_t tokens = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      ids[i] = tok.encode(docs[i]).ids;
      tokens += ids[i].size();
    }
    double enc1 = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    std::vector<size_t> counts(docs.size());
    parallel_for(docs.size(), n_threads, [&](size_t i) { counts[i] = tok.encode(docs[i]).ids.size(); });
    double encn = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    size_t out_bytes = 0;
    for (const auto& v : ids) out_bytes += tok.decode(v).size();
    double dec1 = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    std::vector<size_t> dec_sizes(docs.size());
    parallel_for(docs.size(), n_threads, [&](size_t i) { dec_sizes[i] = tok.decode(ids[i]).size(); });
    double decn = seconds_since(t0);

    auto rate = [&](double s) {
      return nlohmann::json{{"seconds", s}, {"mb_per_s", double(bytes) / 1e6 / s}, {"tokens_per_s", double(tokens) / s}};
    };
    nlohmann::json r = {{"engine", "ipfs-accelerate"},
                        {"tokenizer", *dir},
                        {"documents", docs.size()},
                        {"bytes", bytes},
                        {"tokens", tokens},
                        {"threads", n_threads},
                        {"encode_1", rate(enc1)},
                        {"encode_batch", rate(encn)},
                        {"decode_1", rate(dec1)},
                        {"decode_batch", rate(decn)},
                        {"decoded_bytes", out_bytes}};
    std::cout << r.dump() << std::endl;
    return 0;
  };
}

}  // namespace ia::cli
