// Jinja parser: tokens -> syntax tree, following jinja2's grammar and
// operator precedence (condexpr < or < and < not < compare < + - < ~ <
// * / // % < ** < unary, then postfix `.x [i] (args)`, filters `|f` and tests `is t`).
#pragma once
#include <string>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace ia::jinja {

// Throws ia::Error "NAME:LINE:COL: syntax error: ..." on malformed templates.
NodeList parse(const std::vector<Token>& tokens, const std::string& name);

}  // namespace ia::jinja
