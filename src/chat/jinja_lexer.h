// Jinja lexer: template text -> a flat token stream (data, `{{ ... }}`,
// `{% ... %}` with the expression tokens between), applying jinja2's
// whitespace rules: `-` / `+` modifiers, trim_blocks, lstrip_blocks,
// comments, `{% raw %}` and the removal of one trailing newline.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ia::jinja {

struct LexOptions {
  bool trim_blocks = true;     // transformers renders chat templates with trim_blocks=True
  bool lstrip_blocks = true;   // ... and lstrip_blocks=True
  bool keep_trailing_newline = false;
};

struct Token {
  enum class Type { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
  Type type;
  std::string text;  // data, name, operator or (unescaped) string literal
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1, col = 1;
};

// Throws ia::Error "NAME:LINE:COL: ..." on unterminated tags, strings or bad characters.
std::vector<Token> lex(const std::string& source, const std::string& name, const LexOptions& opt);

}  // namespace ia::jinja
