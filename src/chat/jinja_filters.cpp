// jinja2's built-in filters, tests and globals (the ones chat templates use),
// plus transformers' overrides: `tojson` is json.dumps(ensure_ascii=False, ...)
// and `raise_exception(msg)` aborts rendering with msg.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "chat/jinja_builtins.h"

namespace ia::jinja {

namespace {

std::string soft_str(const Value& v) { return v.str(); }

Value str_value(std::string s) { return Value::string(std::move(s)); }

int64_t to_int_arg(const Value& v, int64_t dflt, const char* what) {
  if (v.is_undefined() || v.is_none()) return dflt;
  IA_CHECK(v.is_integer(), what, " must be an integer, not ", v.type_name());
  return v.as_int();
}

// jinja2's do_title: every chunk between [-\s({[<]+ runs gets an upper first char.
std::string jinja_title(const std::string& s) {
  auto is_sep = [](char c) {
    return c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '(' ||
           c == '{' || c == '[' || c == '<';
  };
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    bool sep = is_sep(s[i]);
    while (j < s.size() && is_sep(s[j]) == sep) ++j;
    std::string chunk = s.substr(i, j - i);
    auto chars = utf8_chars(chunk);
    if (!chars.empty()) {
      out += py_upper(chars[0]);
      out += py_lower(chunk.substr(chars[0].size()));
    }
    i = j;
  }
  return out;
}

std::string indent(const std::string& s0, const Value& width, bool first, bool blank) {
  std::string ind = width.is_string() ? width.s : std::string(size_t(std::max<int64_t>(0, to_int_arg(width, 4, "indent width"))), ' ');
  std::string s = s0 + "\n";
  // str.splitlines (on \n, \r\n, \r)
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(cur);
      cur.clear();
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      cur += s[i];
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  std::string rv;
  if (blank) {
    for (size_t k = 0; k < lines.size(); ++k) rv += (k ? "\n" + ind : "") + lines[k];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t k = 1; k < lines.size(); ++k) rv += "\n" + (lines[k].empty() ? "" : ind + lines[k]);
  }
  if (first) rv = ind + rv;
  return rv;
}

// Python int(str): optional sign, digits with single underscores, surrounding whitespace.
bool parse_int(const std::string& s0, int64_t& out) {
  std::string s = py_strip(s0, Value(), true, true);
  std::string digits;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) digits += s[i++];
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') digits += s[i];
    else if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
             std::isdigit(static_cast<unsigned char>(s[i - 1]))) continue;
    else return false;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, 10);
  if (errno == ERANGE || *end) return false;
  out = v;
  return true;
}

bool parse_float(const std::string& s0, double& out) {
  std::string s = py_strip(s0, Value(), true, true);
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return *end == '\0';
}

Value attr_path(const Value& v, const std::string& path) {
  // jinja2's make_attrgetter: dotted path, integers index.
  Value cur = v;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = numeric ? get_item(cur, Value::integer(std::atoll(part.c_str()))) : get_item(cur, Value::string(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

// Sort key with jinja2's case-insensitive default for strings.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.s));
  return v;
}

std::vector<Value> selected(const Value& seq, Args& args, Kwargs& kwargs, bool by_attr, bool keep) {
  std::vector<Value> out;
  std::string attribute;
  size_t k = 0;
  if (by_attr) {
    Value a = arg(args, kwargs, 0, "attribute");
    IA_CHECK(a.is_string(), "selectattr/rejectattr: attribute name must be a string");
    attribute = a.s;
    k = 1;
  }
  std::string test;
  Args targs;
  Kwargs tkw;
  if (k < args.size()) {
    IA_CHECK(args[k].is_string(), "select: test name must be a string");
    test = args[k].s;
    targs.assign(args.begin() + long(k) + 1, args.end());
  }
  for (const auto& item : iterate(seq)) {
    Value x = by_attr ? attr_path(item, attribute) : item;
    bool ok = test.empty() ? x.truthy() : apply_test(test, x, targs, tkw);
    if (ok == keep) out.push_back(item);
  }
  return out;
}

}  // namespace

Value apply_filter(const std::string& name, const Value& v, Args& args, Kwargs& kwargs) {
  const std::string& n = name;
  if (n == "default" || n == "d") {
    Value dflt = arg(args, kwargs, 0, "default_value");
    bool boolean = arg(args, kwargs, 1, "boolean").truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return dflt.is_undefined() ? str_value("") : dflt;
    return v;
  }
  if (n == "length" || n == "count") return Value::integer(length(v));
  if (n == "trim") return str_value(py_strip(soft_str(v), arg(args, kwargs, 0, "chars"), true, true));
  if (n == "upper") return str_value(py_upper(soft_str(v)));
  if (n == "lower") return str_value(py_lower(soft_str(v)));
  if (n == "title") return str_value(jinja_title(soft_str(v)));
  if (n == "capitalize") {
    std::string s = soft_str(v);
    auto chars = utf8_chars(s);
    if (chars.empty()) return str_value("");
    return str_value(py_upper(chars[0]) + py_lower(s.substr(chars[0].size())));
  }
  if (n == "string") return str_value(soft_str(v));
  if (n == "safe" || n == "list" || n == "e" || n == "escape" || n == "forceescape") {
    if (n == "safe") return v;
    if (n == "list") {
      Value out = Value::make_list(iterate(v));
      return out;
    }
    std::string out;
    for (char c : soft_str(v)) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
    }
    return str_value(out);
  }
  if (n == "tojson") {
    Value indent_v = arg(args, kwargs, 1, "indent"), seps = arg(args, kwargs, 2, "separators");
    bool sort_keys = arg(args, kwargs, 3, "sort_keys").truthy();
    int ind = -1;
    if (!indent_v.is_undefined() && !indent_v.is_none()) {
      IA_CHECK(indent_v.is_integer(), "tojson: indent must be an integer");
      ind = int(std::clamp<int64_t>(indent_v.as_int(), 0, 64));
    }
    std::string item_sep = ind < 0 ? ", " : ",", key_sep = ": ";
    if (!seps.is_undefined() && !seps.is_none()) {
      IA_CHECK(seps.is_list() && seps.list->size() == 2 && (*seps.list)[0].is_string() && (*seps.list)[1].is_string(),
               "tojson: separators must be a pair of strings");
      item_sep = (*seps.list)[0].s;
      key_sep = (*seps.list)[1].s;
    }
    return str_value(to_json(v, ind, item_sep, key_sep, sort_keys));
  }
  if (n == "join") {
    Value d = arg(args, kwargs, 0, "d"), attribute = arg(args, kwargs, 1, "attribute");
    std::string sep = d.is_undefined() ? "" : soft_str(d), out;
    bool first = true;
    for (const auto& e : iterate(v)) {
      if (!first) out += sep;
      first = false;
      out += soft_str(attribute.is_undefined() ? e : attr_path(e, soft_str(attribute)));
    }
    return str_value(out);
  }
  if (n == "replace") {
    Value o = arg(args, kwargs, 0, "old"), nw = arg(args, kwargs, 1, "new"), c = arg(args, kwargs, 2, "count");
    Value s = str_value(soft_str(v));
    Args margs{str_value(soft_str(o)), str_value(soft_str(nw))};
    if (c.is_integer()) margs.push_back(c);
    Kwargs none;
    return get_attr(s, "replace").fn->call(margs, none);
  }
  if (n == "first" || n == "last") {
    auto items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No ") + n + " item, sequence was empty.");
    return n == "first" ? items.front() : items.back();
  }
  if (n == "items") {
    if (v.is_undefined()) return Value::make_list();
    IA_CHECK(v.is_dict() && !v.dict->is_namespace, "Can only get item pairs from a mapping.");
    Kwargs none;
    Args noargs;
    return get_attr(v, "items").fn->call(noargs, none);
  }
  if (n == "indent")
    return str_value(indent(soft_str(v), arg(args, kwargs, 0, "width"), arg(args, kwargs, 1, "first").truthy(),
                            arg(args, kwargs, 2, "blank").truthy()));
  if (n == "int") {
    Value dflt = arg(args, kwargs, 0, "default");
    int64_t d = dflt.is_undefined() ? 0 : to_int_arg(dflt, 0, "int default");
    if (v.is_integer()) return Value::integer(v.as_int());
    if (v.kind == Value::Kind::Float) {
      if (!std::isfinite(v.f) || std::fabs(v.f) >= 9.2e18) return Value::integer(d);
      return Value::integer(int64_t(v.f));
    }
    if (v.is_string()) {
      int64_t r;
      if (parse_int(v.s, r)) return Value::integer(r);
      double f;
      if (parse_float(v.s, f) && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value::integer(int64_t(f));
    }
    return Value::integer(d);
  }
  if (n == "float") {
    Value dflt = arg(args, kwargs, 0, "default");
    double d = dflt.is_number() ? dflt.as_double() : 0.0;
    if (v.is_number()) return Value::number(v.as_double());
    double f;
    if (v.is_string() && parse_float(v.s, f)) return Value::number(f);
    return Value::number(d);
  }
  if (n == "abs") {
    if (v.kind == Value::Kind::Float) return Value::number(std::fabs(v.f));
    IA_CHECK(v.is_integer(), "bad operand type for abs(): '", v.type_name(), "'");
    IA_CHECK(v.as_int() != INT64_MIN, "integer overflow in abs()");
    return Value::integer(std::llabs(v.as_int()));
  }
  if (n == "round") {
    IA_CHECK(v.is_number(), "round: expected a number, not ", v.type_name());
    int64_t prec = to_int_arg(arg(args, kwargs, 0, "precision"), 0, "round precision");
    Value m = arg(args, kwargs, 1, "method");
    std::string method = m.is_string() ? m.s : "common";
    double scale = std::pow(10.0, double(std::clamp<int64_t>(prec, -300, 300)));
    double x = v.as_double() * scale;
    // Python's round() (jinja2's "common") rounds halves to even.
    double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
    IA_CHECK(method == "common" || method == "ceil" || method == "floor", "round: method must be common, ceil or floor");
    return Value::number(r / scale);
  }
  if (n == "reverse") {
    if (v.is_string()) {
      auto chars = utf8_chars(v.s);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return str_value(out);
    }
    auto items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  }
  if (n == "sort" || n == "unique" || n == "min" || n == "max" || n == "dictsort") {
    bool cs = arg(args, kwargs, n == "sort" ? 1 : 0, "case_sensitive").truthy();
    Value attribute = arg(args, kwargs, n == "sort" ? 2 : 1, "attribute");
    auto key = [&](const Value& x) {
      return sort_key(attribute.is_undefined() || attribute.is_none() ? x : attr_path(x, soft_str(attribute)), cs);
    };
    if (n == "dictsort") {
      IA_CHECK(v.is_dict(), "dictsort: expected a dict");
      Value by = arg(args, kwargs, 1, "by");
      bool by_value = by.is_string() && by.s == "value";
      bool rev = arg(args, kwargs, 2, "reverse").truthy();
      std::vector<Value> pairs;
      for (const auto& [k, x] : v.dict->items) {
        Value p = Value::make_list({Value::string(k), x});
        p.tuple = true;
        pairs.push_back(p);
      }
      std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
        bool lt = less_than(sort_key((*a.list)[by_value], cs), sort_key((*b.list)[by_value], cs));
        return rev ? less_than(sort_key((*b.list)[by_value], cs), sort_key((*a.list)[by_value], cs)) : lt;
      });
      return Value::make_list(std::move(pairs));
    }
    auto items = iterate(v);
    if (n == "unique") {
      std::vector<Value> out, seen;
      for (const auto& x : items) {
        Value k = key(x);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) {
          seen.push_back(k);
          out.push_back(x);
        }
      }
      return Value::make_list(std::move(out));
    }
    if (n == "min" || n == "max") {
      if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
      Value best = items[0];
      for (size_t i = 1; i < items.size(); ++i) {
        bool better = n == "min" ? less_than(key(items[i]), key(best)) : less_than(key(best), key(items[i]));
        if (better) best = items[i];
      }
      return best;
    }
    bool rev = arg(args, kwargs, 0, "reverse").truthy();
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      return rev ? less_than(key(b), key(a)) : less_than(key(a), key(b));
    });
    return Value::make_list(std::move(items));
  }
  if (n == "sum") {
    Value attribute = arg(args, kwargs, 0, "attribute"), start = arg(args, kwargs, 1, "start");
    Value acc = start.is_undefined() ? Value::integer(0) : start;
    for (const auto& x : iterate(v))
      acc = binary_op("+", acc, attribute.is_undefined() ? x : attr_path(x, soft_str(attribute)));
    return acc;
  }
  if (n == "map") {
    std::vector<Value> out;
    Value attribute = arg(args, kwargs, size_t(-1), "attribute");
    if (!attribute.is_undefined()) {
      Value dflt = arg(args, kwargs, size_t(-1), "default");
      for (const auto& x : iterate(v)) {
        Value r = attr_path(x, soft_str(attribute));
        out.push_back(r.is_undefined() && !dflt.is_undefined() ? dflt : r);
      }
      return Value::make_list(std::move(out));
    }
    IA_CHECK(!args.empty() && args[0].is_string(), "map: expected a filter name or attribute=");
    std::string f = args[0].s;
    Args fargs(args.begin() + 1, args.end());
    Kwargs fkw;
    for (const auto& x : iterate(v)) {
      Args a = fargs;
      out.push_back(apply_filter(f, x, a, fkw));
    }
    return Value::make_list(std::move(out));
  }
  if (n == "select" || n == "reject" || n == "selectattr" || n == "rejectattr")
    return Value::make_list(selected(v, args, kwargs, n.size() > 6, n[0] == 's'));
  if (n == "attr") {
    Value a = arg(args, kwargs, 0, "name");
    IA_CHECK(a.is_string(), "attr: name must be a string");
    return get_attr(v, a.s);
  }
  if (n == "wordcount") {
    int64_t c = 0;
    bool in_word = false;
    for (char ch : soft_str(v)) {
      bool w = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || (static_cast<unsigned char>(ch) & 0x80);
      if (w && !in_word) ++c;
      in_word = w;
    }
    return Value::integer(c);
  }
  fail("no filter named '", n, "'");
}

bool apply_test(const std::string& name, const Value& v, Args& args, Kwargs& kwargs) {
  const std::string& n = name;
  using K = Value::Kind;
  if (n == "defined") return !v.is_undefined();
  if (n == "undefined") return v.is_undefined();
  if (n == "none") return v.is_none();
  if (n == "boolean") return v.kind == K::Bool;
  if (n == "true") return v.kind == K::Bool && v.b;
  if (n == "false") return v.kind == K::Bool && !v.b;
  if (n == "integer") return v.kind == K::Int;
  if (n == "float") return v.kind == K::Float;
  if (n == "number") return v.is_number();
  if (n == "string") return v.is_string();
  if (n == "mapping") return v.is_dict() && !v.dict->is_namespace;
  if (n == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.dict->is_namespace);
  if (n == "sequence") return v.is_string() || v.is_list() || (v.is_dict() && !v.dict->is_namespace);
  if (n == "callable") return v.kind == K::Callable;
  if (n == "lower") return v.is_string() && py_lower(v.s) == v.s;
  if (n == "upper") return v.is_string() && py_upper(v.s) == v.s;
  if (n == "escaped") return false;
  if (n == "odd" || n == "even") {
    if (v.is_undefined()) undefined_error(v);
    IA_CHECK(v.is_integer(), "test '", n, "' needs an integer, not ", v.type_name());
    return (v.as_int() % 2 != 0) == (n == "odd");
  }
  Value other = arg(args, kwargs, 0, n == "divisibleby" ? "num" : "other");
  if (n == "divisibleby") {
    IA_CHECK(v.is_integer() && other.is_integer() && other.as_int() != 0, "divisibleby needs a non-zero integer");
    if (other.as_int() == -1) return true;
    return v.as_int() % other.as_int() == 0;
  }
  if (n == "sameas") {
    if (v.kind != other.kind) return false;
    if (v.is_list()) return v.list == other.list;
    if (v.is_dict()) return v.dict == other.dict;
    return equals(v, other);
  }
  if (n == "eq" || n == "equalto" || n == "==") return compare_op("==", v, other);
  if (n == "ne" || n == "!=") return compare_op("!=", v, other);
  if (n == "lt" || n == "lessthan" || n == "<") return compare_op("<", v, other);
  if (n == "le" || n == "<=") return compare_op("<=", v, other);
  if (n == "gt" || n == "greaterthan" || n == ">") return compare_op(">", v, other);
  if (n == "ge" || n == ">=") return compare_op(">=", v, other);
  if (n == "in") return contains(other, v);
  fail("no test named '", n, "'");
}

void add_globals(Dict& g) {
  g.set("raise_exception", Value::callable("raise_exception", [](Args& a, Kwargs& k) -> Value {
          Value m = arg(a, k, 0, "message");
          throw TemplateRaised(m.str());
        }));
  g.set("range", Value::callable("range", [](Args& a, Kwargs&) {
          IA_CHECK(!a.empty() && a.size() <= 3, "range expected 1 to 3 arguments, got ", a.size());
          for (const auto& x : a) IA_CHECK(x.is_integer(), "range(): '", x.type_name(), "' object cannot be interpreted as an integer");
          int64_t start = 0, stop, step = 1;
          if (a.size() == 1) stop = a[0].as_int();
          else {
            start = a[0].as_int();
            stop = a[1].as_int();
            if (a.size() == 3) step = a[2].as_int();
          }
          IA_CHECK(step != 0, "range() arg 3 must not be zero");
          List out;
          for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
            // jinja2's sandbox refuses ranges longer than MAX_RANGE (100000).
            IA_CHECK(out.size() < 100000, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            out.push_back(Value::integer(i));
            if (__builtin_add_overflow(i, step, &i)) break;
          }
          return Value::make_list(std::move(out));
        }));
  auto make_dict = [](bool ns) {
    return [ns](Args& a, Kwargs& k) {
      Value d = ns ? Value::make_namespace() : Value::make_dict();
      IA_CHECK(a.size() <= 1, ns ? "namespace" : "dict", "() takes at most one positional argument");
      if (!a.empty()) {
        IA_CHECK(a[0].is_dict(), ns ? "namespace" : "dict", "(): positional argument must be a mapping");
        for (const auto& [key, x] : a[0].dict->items) d.dict->set(key, x);
      }
      for (const auto& [key, x] : k) d.dict->set(key, x);
      return d;
    };
  };
  g.set("namespace", Value::callable("namespace", make_dict(true)));
  g.set("dict", Value::callable("dict", make_dict(false)));
}

}  // namespace ia::jinja
