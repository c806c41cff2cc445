// The Jinja interpreter: walks the syntax tree with jinja2's scoping (a for-loop
// iteration, a macro call and a `with` block each get their own scope; `if`
// does not; namespace() objects carry values out of loops).
#include <optional>

#include "chat/jinja.h"
#include "chat/jinja_ast.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_parser.h"

namespace ia::jinja {

namespace {

using K = Node::Kind;

// An error that already names its template location.
struct LocatedError : Error {
  explicit LocatedError(const std::string& m) : Error(m) {}
};

struct Scope {
  Dict vars;
  const Scope* parent = nullptr;
  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      if (const Value* v = s->vars.find(name)) return v;
    return nullptr;
  }
};

enum class Flow { Normal, Break, Continue };

constexpr int kMaxCallDepth = 100;
constexpr size_t kMaxOutput = size_t(1) << 28;

class Interp {
 public:
  Interp(const std::string& name, const Scope& globals) : name_(name) { root_.parent = &globals; }

  std::string run(const NodeList& body) {
    std::string out;
    scope_ = &root_;
    exec(body, out);
    return out;
  }

  Scope root_;

 private:
  [[noreturn]] void located(const Node& n, const std::string& msg) const {
    throw LocatedError(cat(name_, ":", n.line, ":", n.col, ": ", msg));
  }

  // ---- statements ----

  Flow exec(const NodeList& body, std::string& out) {
    for (const auto& n : body) {
      Flow f = exec_one(*n, out);
      if (f != Flow::Normal) return f;
      if (out.size() > kMaxOutput) located(*n, "template output too large");
    }
    return Flow::Normal;
  }

  Flow exec_one(const Node& n, std::string& out) {
    try {
      switch (n.kind) {
        case K::Text: out += n.lit.s; return Flow::Normal;
        case K::Output: out += eval(*n.a[0]).str(); return Flow::Normal;
        case K::If: return exec(eval(*n.a[0]).truthy() ? n.body : n.orelse, out);
        case K::For: return exec_for(n, out);
        case K::Set: exec_set(n); return Flow::Normal;
        case K::Macro: scope_->vars.set(n.name, make_macro(n)); return Flow::Normal;
        case K::Break: return Flow::Break;
        case K::Continue: return Flow::Continue;
        case K::Block: return exec(n.body, out);
        case K::With: {
          Scope s{{}, scope_};
          for (size_t i = 0; i < n.names.size(); ++i) s.vars.set(n.names[i], eval(*n.a[i]));
          ScopeSwap swap(*this, &s);
          return exec(n.body, out);
        }
        case K::FilterBlock: {
          std::string body;
          exec(n.body, body);
          out += eval_filter(*n.a[0], Value::string(body)).str();
          return Flow::Normal;
        }
        case K::CallBlock: {
          Value caller = make_caller(n);
          std::optional<Value> saved = pending_caller_;
          pending_caller_ = caller;
          Value r = eval(*n.a[0]);
          pending_caller_ = saved;
          out += r.str();
          return Flow::Normal;
        }
        default: out += eval(n).str(); return Flow::Normal;
      }
    } catch (const LocatedError&) {
      throw;
    } catch (const Error& e) {
      located(n, e.what());
    }
  }

  struct ScopeSwap {
    Interp& in;
    Scope* saved;
    ScopeSwap(Interp& i, Scope* s) : in(i), saved(i.scope_) { in.scope_ = s; }
    ~ScopeSwap() { in.scope_ = saved; }
  };

  void assign(Scope& s, const std::vector<std::string>& names, const Value& v) {
    if (names.size() == 1) {
      s.vars.set(names[0], v);
      return;
    }
    std::vector<Value> items = iterate(v);
    if (items.size() != names.size())
      fail(items.size() < names.size() ? "not enough" : "too many", " values to unpack (expected ", names.size(),
           ", got ", items.size(), ")");
    for (size_t i = 0; i < names.size(); ++i) s.vars.set(names[i], items[i]);
  }

  void exec_set(const Node& n) {
    Value v;
    if (n.flag) {  // block set
      std::string body;
      exec(n.body, body);
      v = Value::string(body);
      if (!n.a.empty()) v = eval_filter(*n.a[0], v);
    } else {
      v = eval(*n.a[0]);
    }
    if (!n.name.empty()) {
      const Value* ns = scope_->find(n.name);
      if (!ns || !ns->is_dict() || !ns->dict->is_namespace)
        fail("cannot assign attribute on non-namespace object '", n.name, "'");
      ns->dict->set(n.names[0], v);
      return;
    }
    assign(*scope_, n.names, v);
  }

  Flow exec_for(const Node& n, std::string& out) {
    if (n.flag) fail("recursive for-loops are not supported");
    Value seq = eval(*n.a[0]);
    std::vector<Value> items = iterate(seq);
    if (n.a.size() > 1) {  // `for x in xs if cond`: filtered before the loop counts
      std::vector<Value> kept;
      for (const auto& it : items) {
        Scope s{{}, scope_};
        assign(s, n.names, it);
        ScopeSwap swap(*this, &s);
        if (eval(*n.a[1]).truthy()) kept.push_back(it);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec(n.orelse, out);
    const int64_t len = int64_t(items.size());
    for (int64_t i = 0; i < len; ++i) {
      Scope s{{}, scope_};
      Value loop = Value::make_dict();
      Dict& l = *loop.dict;
      l.set("index", Value::integer(i + 1));
      l.set("index0", Value::integer(i));
      l.set("revindex", Value::integer(len - i));
      l.set("revindex0", Value::integer(len - i - 1));
      l.set("first", Value::boolean(i == 0));
      l.set("last", Value::boolean(i == len - 1));
      l.set("length", Value::integer(len));
      l.set("depth", Value::integer(1));
      l.set("depth0", Value::integer(0));
      l.set("previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item"));
      l.set("nextitem", i + 1 < len ? items[size_t(i + 1)] : Value::undefined("there is no next item"));
      l.set("cycle", Value::callable("cycle", [i](Args& a, Kwargs&) {
              IA_CHECK(!a.empty(), "no items for cycling given");
              return a[size_t(i) % a.size()];
            }));
      s.vars.set("loop", loop);
      assign(s, n.names, items[size_t(i)]);
      ScopeSwap swap(*this, &s);
      if (exec(n.body, out) == Flow::Break) break;
    }
    return Flow::Normal;
  }

  Value make_macro(const Node& n) {
    const Node* def = &n;
    return Value::callable(n.name, [this, def](Args& args, Kwargs& kwargs) { return call_macro(*def, args, kwargs, nullptr); });
  }

  Value make_caller(const Node& n) {
    const Node* def = &n;
    Scope* defined_in = scope_;
    return Value::callable("caller", [this, def, defined_in](Args& args, Kwargs& kwargs) {
      return call_macro(*def, args, kwargs, defined_in);
    });
  }

  Value call_macro(const Node& def, Args& args, Kwargs& kwargs, const Scope* parent) {
    if (++depth_ > kMaxCallDepth) {
      --depth_;
      fail("macro calls nested too deeply (", kMaxCallDepth, ")");
    }
    struct DepthGuard {
      int& d;
      ~DepthGuard() { --d; }
    } guard{depth_};
    std::string mname = def.kind == K::Macro ? def.name : "caller";
    if (args.size() > def.names.size())
      fail("macro '", mname, "' takes not more than ", def.names.size(), " argument(s)");
    Scope s{{}, parent ? parent : &root_};
    if (def.kind == K::Macro && pending_caller_) {
      s.vars.set("caller", *pending_caller_);
      pending_caller_.reset();
    }
    for (size_t i = 0; i < def.names.size(); ++i) {
      Value v;
      bool given = false;
      if (i < args.size()) {
        v = args[i];
        given = true;
      }
      for (const auto& [k, x] : kwargs)
        if (k == def.names[i]) {
          IA_CHECK(!given, "macro '", mname, "' got multiple values for argument '", k, "'");
          v = x;
          given = true;
        }
      if (!given) {
        const Node* dflt = def.kind == K::Macro ? def.a[i].get() : nullptr;
        if (dflt) {
          ScopeSwap swap(*this, &s);
          v = eval(*dflt);
        } else {
          v = Value::undefined("parameter '" + def.names[i] + "' was not provided");
        }
      }
      s.vars.set(def.names[i], v);
    }
    for (const auto& [k, x] : kwargs)
      if (std::find(def.names.begin(), def.names.end(), k) == def.names.end())
        fail("macro '", mname, "' takes no keyword argument '", k, "'");
    std::string out;
    ScopeSwap swap(*this, &s);
    exec(def.body, out);
    return Value::string(out);
  }

  // ---- expressions ----

  Value eval(const Node& n) {
    try {
      return eval_inner(n);
    } catch (const LocatedError&) {
      throw;
    } catch (const Error& e) {
      located(n, e.what());
    }
  }

  void eval_args(const Node& n, size_t first, Args& args, Kwargs& kwargs) {
    size_t n_kw = n.names.size();
    size_t n_pos = n.a.size() - first - n_kw;
    for (size_t i = 0; i < n_pos; ++i) args.push_back(eval(*n.a[first + i]));
    for (size_t i = 0; i < n_kw; ++i) kwargs.emplace_back(n.names[i], eval(*n.a[first + n_pos + i]));
  }

  Value eval_filter(const Node& n, const Value& block_input) {
    Value v = n.a[0] ? (n.a[0]->kind == K::Filter ? eval_filter(*n.a[0], block_input) : eval(*n.a[0])) : block_input;
    Args args;
    Kwargs kwargs;
    eval_args(n, 1, args, kwargs);
    return apply_filter(n.name, v, args, kwargs);
  }

  Value eval_inner(const Node& n) {
    switch (n.kind) {
      case K::Literal: return n.lit;
      case K::Name: {
        const Value* v = scope_->find(n.name);
        return v ? *v : Value::undefined("'" + n.name + "' is undefined");
      }
      case K::ListLit:
      case K::TupleLit: {
        List items;
        for (const auto& c : n.a) items.push_back(eval(*c));
        Value v = Value::make_list(std::move(items));
        v.tuple = n.kind == K::TupleLit;
        return v;
      }
      case K::DictLit: {
        Value d = Value::make_dict();
        for (size_t i = 0; i + 1 < n.a.size(); i += 2) {
          Value k = eval(*n.a[i]);
          IA_CHECK(k.is_string(), "dict keys must be strings in chat templates, not ", k.type_name());
          d.dict->set(k.s, eval(*n.a[i + 1]));
        }
        return d;
      }
      case K::Attr: return get_attr(eval(*n.a[0]), n.name);
      case K::Subscript: return get_item(eval(*n.a[0]), eval(*n.a[1]));
      case K::Slice: {
        Value obj = eval(*n.a[0]);
        auto opt = [&](const NodePtr& p) { return p ? eval(*p) : Value::none(); };
        return get_slice(obj, opt(n.a[1]), opt(n.a[2]), opt(n.a[3]));
      }
      case K::Call: {
        Value callee = eval(*n.a[0]);
        if (callee.is_undefined()) undefined_error(callee);
        IA_CHECK(callee.kind == Value::Kind::Callable, "'", callee.type_name(), "' object is not callable");
        Args args;
        Kwargs kwargs;
        eval_args(n, 1, args, kwargs);
        return callee.fn->call(args, kwargs);
      }
      case K::Filter: return eval_filter(n, Value());
      case K::Test: {
        Value v = eval(*n.a[0]);
        Args args;
        Kwargs kwargs;
        eval_args(n, 1, args, kwargs);
        return Value::boolean(apply_test(n.name, v, args, kwargs) != n.flag);
      }
      case K::Unary: return unary_op(n.name, eval(*n.a[0]));
      case K::Binary: {
        Value l = eval(*n.a[0]);
        if (n.name == "and") return l.truthy() ? eval(*n.a[1]) : l;
        if (n.name == "or") return l.truthy() ? l : eval(*n.a[1]);
        return binary_op(n.name, l, eval(*n.a[1]));
      }
      case K::Compare: {
        Value left = eval(*n.a[0]);
        for (size_t i = 0; i < n.names.size(); ++i) {
          Value right = eval(*n.a[i + 1]);
          if (!compare_op(n.names[i], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case K::CondExpr:
        if (eval(*n.a[0]).truthy()) return eval(*n.a[1]);
        return n.a[2] ? eval(*n.a[2]) : Value::undefined("the inline if-expression evaluated to false and no else section was defined");
      default: fail("statement used as an expression");
    }
  }

  std::string name_;
  Scope* scope_ = nullptr;
  int depth_ = 0;
  std::optional<Value> pending_caller_;
};

}  // namespace

struct Template::Impl {
  std::string name;
  NodeList body;
};

Template::Template(const std::string& source, std::string name, const LexOptions& opt)
    : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->body = parse(lex(source, impl_->name, opt), impl_->name);
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const Value& context) const {
  IA_CHECK(context.is_dict(), impl_->name, ": the render context must be a dict");
  Scope globals;
  add_globals(globals.vars);
  Interp in(impl_->name, globals);
  for (const auto& [k, v] : context.dict->items) in.root_.vars.set(k, v);
  try {
    return in.run(impl_->body);
  } catch (const LocatedError& e) {
    throw Error(e.what());
  }
}

}  // namespace ia::jinja
