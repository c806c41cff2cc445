// `ipfs-accelerate run MODEL_DIR --chat`: chat through the tokenizer's chat
// template. With --input or a messages --input-file it answers once; without,
// it reads user turns from stdin (one per line, "/exit" or EOF ends) and keeps
// the conversation.
#pragma once
#include <functional>
#include <string>

#include "pipelines/text_generation.h"

namespace ia::cli {

struct ChatRunOptions {
  std::string model_dir, input, input_file, system;
  bool json = false, no_stream = false;
};

// Returns the process exit code; errors are printed (as result JSON with --json).
int run_chat(const ChatRunOptions& o, const std::function<void(GenerationSettings&)>& apply_flags);

}  // namespace ia::cli
