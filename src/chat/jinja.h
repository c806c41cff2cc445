// A Jinja template engine with jinja2 semantics, sized for Hugging Face chat
// templates: `{% for/if/elif/else/set/macro/call/filter/with/break/continue %}`,
// namespace(), the full expression grammar, jinja2's filters and tests, Python
// str/dict methods, raise_exception, and transformers' whitespace settings
// (trim_blocks + lstrip_blocks) and `tojson`.
//
// Errors are ia::Error: syntax errors "NAME:LINE:COL: syntax error: ...",
// render errors "NAME:LINE:COL: ..." (e.g. "'foo' is undefined" when an
// undefined value is used in arithmetic or attribute access, exactly where
// jinja2's default Undefined raises), and raise_exception's message.
#pragma once
#include <memory>
#include <string>

#include "chat/jinja_lexer.h"
#include "chat/jinja_value.h"

namespace ia::jinja {

struct Node;

class Template {
 public:
  explicit Template(const std::string& source, std::string name = "template", const LexOptions& opt = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` is a dict of the template's variables.
  std::string render(const Value& context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ia::jinja
