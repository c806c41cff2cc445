#include "chat/jinja_parser.h"

#include <initializer_list>

#include "core/error.h"

namespace ia::jinja {

namespace {

using K = Node::Kind;
using T = Token::Type;

class Parser {
 public:
  Parser(const std::vector<Token>& toks, const std::string& name) : t_(toks), name_(name) {}

  NodeList parse_template() {
    NodeList out = parse_statements({});
    if (cur().type != T::Eof) error(cur(), "unexpected token");
    return out;
  }

 private:
  const Token& cur() const { return t_[pos_]; }
  const Token& peek(size_t n = 1) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
  void next() {
    if (t_[pos_].type != T::Eof) ++pos_;
  }
  [[noreturn]] void error(const Token& tok, const std::string& msg) const {
    std::string what = tok.type == T::Eof ? "end of template" :
                       tok.type == T::BlockEnd ? "end of statement block" :
                       tok.type == T::VarEnd ? "end of print statement" :
                       tok.type == T::Data ? "template data" : "'" + tok.text + "'";
    fail(name_, ":", tok.line, ":", tok.col, ": syntax error: ", msg, " (found ", what, ")");
  }
  bool is_op(const char* op) const { return cur().type == T::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == T::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur(), std::string("expected '") + op + "'");
  }
  void expect_name_kw(const char* n) {
    if (!skip_name(n)) error(cur(), std::string("expected '") + n + "'");
  }
  std::string expect_ident() {
    if (cur().type != T::Name) error(cur(), "expected a name");
    std::string s = cur().text;
    next();
    return s;
  }
  void expect_block_end() {
    if (cur().type != T::BlockEnd) error(cur(), "expected end of statement block '%}'");
    next();
  }
  NodePtr node(K k, const Token& at) { return std::make_unique<Node>(k, at.line, at.col); }

  // Statements until a `{% NAME %}` whose NAME is one of `ends` (left unconsumed,
  // positioned on the name) or the end of the template (an error if `ends` is non-empty).
  NodeList parse_statements(std::initializer_list<const char*> ends) {
    NodeList out;
    while (true) {
      const Token& tk = cur();
      if (tk.type == T::Eof) {
        if (ends.size()) {
          std::string list;
          for (const char* e : ends) list += std::string(list.empty() ? "" : " or ") + "'" + e + "'";
          error(tk, "unexpected end of template, expected " + list);
        }
        return out;
      }
      if (tk.type == T::Data) {
        auto n = node(K::Text, tk);
        n->lit = Value::string(tk.text);
        out.push_back(std::move(n));
        next();
      } else if (tk.type == T::VarBegin) {
        next();
        auto n = node(K::Output, tk);
        n->a.push_back(parse_tuple(true));
        if (cur().type != T::VarEnd) error(cur(), "expected end of print statement '}}'");
        next();
        out.push_back(std::move(n));
      } else if (tk.type == T::BlockBegin) {
        const Token& kw = peek();
        if (kw.type == T::Name)
          for (const char* e : ends)
            if (kw.text == e) {
              next();
              return out;
            }
        next();
        out.push_back(parse_statement());
      } else {
        error(tk, "unexpected token");
      }
    }
  }

  // Consumes `{% end... %}` (we are on the name).
  void end_tag(const char* name) {
    expect_name_kw(name);
    expect_block_end();
  }

  NodePtr parse_statement() {
    const Token& tk = cur();
    if (tk.type != T::Name) error(tk, "expected a tag name");
    const std::string kw = tk.text;
    next();
    if (kw == "if") return parse_if(tk);
    if (kw == "for") return parse_for(tk);
    if (kw == "set") return parse_set(tk);
    if (kw == "macro") return parse_macro(tk);
    if (kw == "filter") return parse_filter_block(tk);
    if (kw == "with") return parse_with(tk);
    if (kw == "call") return parse_call_block(tk);
    if (kw == "break" || kw == "continue") {
      auto n = node(kw == "break" ? K::Break : K::Continue, tk);
      expect_block_end();
      return n;
    }
    if (kw == "generation") {  // transformers' AssistantTracker tag: renders its body
      auto n = node(K::Block, tk);
      expect_block_end();
      n->body = parse_statements({"endgeneration"});
      end_tag("endgeneration");
      return n;
    }
    error(tk, "unknown or unsupported tag '" + kw + "'");
  }

  NodePtr parse_if(const Token& at) {
    auto n = node(K::If, at);
    n->a.push_back(parse_tuple(false));
    expect_block_end();
    n->body = parse_statements({"elif", "else", "endif"});
    if (is_name("elif")) {
      const Token& e = cur();
      next();
      n->orelse.push_back(parse_if(e));  // consumes through endif
      return n;
    }
    if (skip_name("else")) {
      expect_block_end();
      n->orelse = parse_statements({"endif"});
    }
    end_tag("endif");
    return n;
  }

  // Assignment targets: `a`, `a, b`, `(a, b)`; with_namespace allows `ns.attr`.
  std::vector<std::string> parse_targets(std::string* ns_name) {
    std::vector<std::string> names;
    bool paren = skip_op("(");
    while (true) {
      std::string id = expect_ident();
      if (ns_name && names.empty() && is_op(".")) {
        next();
        *ns_name = id;
        names.push_back(expect_ident());
        return names;
      }
      names.push_back(id);
      if (!skip_op(",")) break;
      if (paren && is_op(")")) break;
    }
    if (paren) expect_op(")");
    return names;
  }

  NodePtr parse_for(const Token& at) {
    auto n = node(K::For, at);
    n->names = parse_targets(nullptr);
    expect_name_kw("in");
    n->a.push_back(parse_tuple(false, "recursive"));
    if (skip_name("if")) n->a.push_back(parse_expression(true));
    if (skip_name("recursive")) n->flag = true;
    expect_block_end();
    n->body = parse_statements({"endfor", "else"});
    if (skip_name("else")) {
      expect_block_end();
      n->orelse = parse_statements({"endfor"});
    }
    end_tag("endfor");
    return n;
  }

  NodePtr parse_set(const Token& at) {
    auto n = node(K::Set, at);
    n->names = parse_targets(&n->name);
    if (skip_op("=")) {
      n->a.push_back(parse_tuple(true));
      expect_block_end();
      return n;
    }
    if (!n->name.empty() || n->names.size() != 1) error(cur(), "expected '='");
    NodePtr filter;
    if (is_op("|")) filter = parse_filter(nullptr);
    expect_block_end();
    n->body = parse_statements({"endset"});
    end_tag("endset");
    if (filter) n->a.push_back(std::move(filter));
    n->flag = true;  // block set
    return n;
  }

  NodePtr parse_macro(const Token& at) {
    auto n = node(K::Macro, at);
    n->name = expect_ident();
    parse_signature(*n);
    expect_block_end();
    n->body = parse_statements({"endmacro"});
    end_tag("endmacro");
    return n;
  }

  void parse_signature(Node& n) {
    expect_op("(");
    while (!is_op(")")) {
      if (!n.names.empty()) expect_op(",");
      if (is_op(")")) break;
      n.names.push_back(expect_ident());
      n.a.push_back(skip_op("=") ? parse_expression(true) : nullptr);
    }
    expect_op(")");
  }

  NodePtr parse_call_block(const Token& at) {
    auto n = node(K::CallBlock, at);
    Node sig(K::Macro, at.line, at.col);
    if (is_op("(")) parse_signature(sig);
    n->names = std::move(sig.names);
    NodePtr call = parse_expression(true);
    if (call->kind != K::Call) error(cur(), "expected a call expression after 'call'");
    n->a.push_back(std::move(call));
    expect_block_end();
    n->body = parse_statements({"endcall"});
    end_tag("endcall");
    return n;
  }

  NodePtr parse_filter_block(const Token& at) {
    auto n = node(K::FilterBlock, at);
    NodePtr f = parse_filter(nullptr, /*start_inline=*/true);
    n->a.push_back(std::move(f));
    expect_block_end();
    n->body = parse_statements({"endfilter"});
    end_tag("endfilter");
    return n;
  }

  NodePtr parse_with(const Token& at) {
    auto n = node(K::With, at);
    while (cur().type != T::BlockEnd) {
      if (!n->names.empty()) expect_op(",");
      n->names.push_back(expect_ident());
      expect_op("=");
      n->a.push_back(parse_expression(true));
    }
    expect_block_end();
    n->body = parse_statements({"endwith"});
    end_tag("endwith");
    return n;
  }

  // ---- expressions ----

  bool at_tuple_end(const char* extra_end) const {
    const Token& tk = cur();
    if (tk.type == T::VarEnd || tk.type == T::BlockEnd || tk.type == T::Eof) return true;
    if (tk.type == T::Op && (tk.text == ")" || tk.text == "]" || tk.text == "}")) return true;
    if (extra_end && tk.type == T::Name && tk.text == extra_end) return true;
    return false;
  }

  NodePtr parse_tuple(bool with_condexpr, const char* extra_end = nullptr, bool explicit_parens = false) {
    const Token& at = cur();
    NodeList items;
    bool comma = false;
    while (true) {
      if (!items.empty()) {
        if (!skip_op(",")) break;
        comma = true;
      }
      if (at_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condexpr));
    }
    if (items.empty() && !explicit_parens) error(cur(), "expected an expression");
    if (items.size() == 1 && !comma) return std::move(items[0]);
    auto n = node(K::TupleLit, at);
    n->a = std::move(items);
    return n;
  }

  NodePtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  NodePtr parse_condexpr() {
    NodePtr expr = parse_or();
    while (is_name("if")) {
      const Token& at = cur();
      next();
      NodePtr cond = parse_or();
      NodePtr other = skip_name("else") ? parse_condexpr() : nullptr;
      auto n = node(K::CondExpr, at);
      n->a.push_back(std::move(cond));
      n->a.push_back(std::move(expr));
      n->a.push_back(std::move(other));
      expr = std::move(n);
    }
    return expr;
  }

  NodePtr binary(const Token& at, const std::string& op, NodePtr l, NodePtr r) {
    auto n = node(K::Binary, at);
    n->name = op;
    n->a.push_back(std::move(l));
    n->a.push_back(std::move(r));
    return n;
  }

  NodePtr parse_or() {
    NodePtr l = parse_and();
    while (is_name("or")) {
      const Token& at = cur();
      next();
      l = binary(at, "or", std::move(l), parse_and());
    }
    return l;
  }

  NodePtr parse_and() {
    NodePtr l = parse_not();
    while (is_name("and")) {
      const Token& at = cur();
      next();
      l = binary(at, "and", std::move(l), parse_not());
    }
    return l;
  }

  NodePtr parse_not() {
    if (is_name("not")) {
      const Token& at = cur();
      next();
      auto n = node(K::Unary, at);
      n->name = "not";
      n->a.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }

  NodePtr parse_compare() {
    const Token& at = cur();
    NodePtr first = parse_math1();
    NodePtr cmp;
    while (true) {
      std::string op;
      if (cur().type == T::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                  cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == T::Name && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(K::Compare, at);
        cmp->a.push_back(std::move(first));
      }
      cmp->names.push_back(op);
      cmp->a.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  NodePtr parse_math1() {
    NodePtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = cur();
      std::string op = at.text;
      next();
      l = binary(at, op, std::move(l), parse_concat());
    }
    return l;
  }

  NodePtr parse_concat() {
    NodePtr l = parse_math2();
    while (is_op("~")) {
      const Token& at = cur();
      next();
      l = binary(at, "~", std::move(l), parse_math2());
    }
    return l;
  }

  NodePtr parse_math2() {
    NodePtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = cur();
      std::string op = at.text;
      next();
      l = binary(at, op, std::move(l), parse_pow());
    }
    return l;
  }

  NodePtr parse_pow() {
    NodePtr l = parse_unary(true);
    while (is_op("**")) {
      const Token& at = cur();
      next();
      l = binary(at, "**", std::move(l), parse_unary(true));
    }
    return l;
  }

  NodePtr parse_unary(bool with_filter) {
    NodePtr n;
    if (is_op("-") || is_op("+")) {
      const Token& at = cur();
      n = node(K::Unary, at);
      n->name = at.text;
      next();
      n->a.push_back(parse_unary(false));
    } else {
      n = parse_primary();
    }
    n = parse_postfix(std::move(n));
    if (with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  NodePtr parse_primary() {
    const Token& tk = cur();
    if (++depth_ > 200) error(tk, "expression nested too deeply");
    struct DepthGuard {
      int& d;
      ~DepthGuard() { --d; }
    } guard{depth_};
    if (tk.type == T::Name) {
      next();
      auto n = node(K::Literal, tk);
      if (tk.text == "true" || tk.text == "True") n->lit = Value::boolean(true);
      else if (tk.text == "false" || tk.text == "False") n->lit = Value::boolean(false);
      else if (tk.text == "none" || tk.text == "None") n->lit = Value::none();
      else {
        n->kind = K::Name;
        n->name = tk.text;
      }
      return n;
    }
    if (tk.type == T::String) {
      std::string s;
      while (cur().type == T::String) {  // adjacent literals concatenate
        s += cur().text;
        next();
      }
      auto n = node(K::Literal, tk);
      n->lit = Value::string(s);
      return n;
    }
    if (tk.type == T::Int || tk.type == T::Float) {
      next();
      auto n = node(K::Literal, tk);
      n->lit = tk.type == T::Int ? Value::integer(tk.int_value) : Value::number(tk.float_value);
      return n;
    }
    if (skip_op("(")) {
      NodePtr n = parse_tuple(true, nullptr, true);
      expect_op(")");
      return n;
    }
    if (skip_op("[")) {
      auto n = node(K::ListLit, tk);
      while (!is_op("]")) {
        if (!n->a.empty()) expect_op(",");
        if (is_op("]")) break;
        n->a.push_back(parse_expression(true));
      }
      expect_op("]");
      return n;
    }
    if (skip_op("{")) {
      auto n = node(K::DictLit, tk);
      while (!is_op("}")) {
        if (!n->a.empty()) expect_op(",");
        if (is_op("}")) break;
        n->a.push_back(parse_expression(true));
        expect_op(":");
        n->a.push_back(parse_expression(true));
      }
      expect_op("}");
      return n;
    }
    error(tk, "unexpected token in expression");
  }

  NodePtr parse_postfix(NodePtr n) {
    while (true) {
      if (is_op(".") || is_op("[")) n = parse_subscript(std::move(n));
      else if (is_op("(")) n = parse_call(std::move(n));
      else return n;
    }
  }

  NodePtr parse_filter_expr(NodePtr n) {
    while (true) {
      if (is_op("|")) n = parse_filter(std::move(n));
      else if (is_name("is")) n = parse_test(std::move(n));
      else if (is_op("(")) n = parse_call(std::move(n));
      else return n;
    }
  }

  NodePtr parse_subscript(NodePtr obj) {
    const Token& at = cur();
    if (skip_op(".")) {
      if (cur().type == T::Name) {
        auto n = node(K::Attr, at);
        n->name = cur().text;
        next();
        n->a.push_back(std::move(obj));
        return n;
      }
      if (cur().type == T::Int) {
        auto n = node(K::Subscript, at);
        auto idx = node(K::Literal, cur());
        idx->lit = Value::integer(cur().int_value);
        next();
        n->a.push_back(std::move(obj));
        n->a.push_back(std::move(idx));
        return n;
      }
      error(cur(), "expected a name after '.'");
    }
    expect_op("[");
    NodePtr start, stop, step;
    bool slice = false;
    if (!is_op(":")) start = parse_expression(true);
    if (skip_op(":")) {
      slice = true;
      if (!is_op("]") && !is_op(":")) stop = parse_expression(true);
      if (skip_op(":") && !is_op("]")) step = parse_expression(true);
    }
    expect_op("]");
    auto n = node(slice ? K::Slice : K::Subscript, at);
    n->a.push_back(std::move(obj));
    n->a.push_back(std::move(start));
    if (slice) {
      n->a.push_back(std::move(stop));
      n->a.push_back(std::move(step));
    }
    return n;
  }

  // `(args, name=value, ...)` appended to n->a / n->names.
  void parse_args(Node& n) {
    expect_op("(");
    size_t count = 0;
    while (!is_op(")")) {
      if (count++) expect_op(",");
      if (is_op(")")) break;
      if (cur().type == T::Name && peek().type == T::Op && peek().text == "=") {
        n.names.push_back(cur().text);
        next();
        next();
        n.a.push_back(parse_expression(true));
      } else {
        if (!n.names.empty()) error(cur(), "positional argument follows keyword argument");
        n.a.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  NodePtr parse_call(NodePtr callee) {
    auto n = node(K::Call, cur());
    n->a.push_back(std::move(callee));
    parse_args(*n);
    return n;
  }

  NodePtr parse_filter(NodePtr obj, bool start_inline = false) {
    NodePtr result = std::move(obj);
    bool first = true;
    while (is_op("|") || (start_inline && first)) {
      if (!(start_inline && first)) next();
      first = false;
      const Token& at = cur();
      auto n = node(K::Filter, at);
      n->name = expect_ident();
      while (is_op(".")) {
        next();
        n->name += "." + expect_ident();
      }
      n->a.push_back(std::move(result));
      if (is_op("(")) parse_args(*n);
      result = std::move(n);
    }
    return result;
  }

  NodePtr parse_test(NodePtr obj) {
    const Token& at = cur();
    next();  // 'is'
    auto n = node(K::Test, at);
    n->flag = skip_name("not");
    n->name = expect_ident();
    while (is_op(".")) {
      next();
      n->name += "." + expect_ident();
    }
    n->a.push_back(std::move(obj));
    if (is_op("(")) {
      parse_args(*n);
    } else {
      const Token& tk = cur();
      bool arg_start = tk.type == T::Name || tk.type == T::String || tk.type == T::Int || tk.type == T::Float ||
                       (tk.type == T::Op && (tk.text == "[" || tk.text == "{"));
      if (arg_start && !(tk.type == T::Name && (tk.text == "else" || tk.text == "or" || tk.text == "and"))) {
        if (tk.type == T::Name && tk.text == "is") error(tk, "you cannot chain multiple tests with 'is'");
        n->a.push_back(parse_postfix(parse_primary()));
      }
    }
    return n;
  }

  const std::vector<Token>& t_;
  std::string name_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

NodeList parse(const std::vector<Token>& tokens, const std::string& name) {
  return Parser(tokens, name).parse_template();
}

}  // namespace ia::jinja
