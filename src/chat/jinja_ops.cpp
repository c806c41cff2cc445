// Attribute / item access, operators, iteration and str methods with the
// semantics Python gives them under jinja2's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <climits>
#include <optional>
#include <cmath>
#include <utf8proc.h>

#include "chat/jinja_builtins.h"

namespace ia::jinja {

namespace {

constexpr size_t kMaxBuilt = size_t(1) << 28;  // cap on strings / lists a template may build (256 M)

// One code point of UTF-8 at s[i]; invalid bytes decode as themselves (one byte).
uint32_t next_cp(const std::string& s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

void put_cp(std::string& out, uint32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(utf8proc_int32_t(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), size_t(n));
}

// Python's str.isspace() set (Py_UNICODE_ISSPACE).
bool py_space(uint32_t c) {
  return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_cased_letter(uint32_t c) {
  auto cat = utf8proc_category(utf8proc_int32_t(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

std::vector<uint32_t> cps(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) out.push_back(next_cp(s, i));
  return out;
}

[[noreturn]] void type_error(const std::string& op, const Value& a, const Value& b) {
  fail("unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

void check_overflow(bool overflow) { IA_CHECK(!overflow, "integer overflow in template arithmetic"); }

Value repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    IA_CHECK(seq.s.empty() || uint64_t(n) <= kMaxBuilt / seq.s.size(), "string repetition too large");
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::string(out);
  }
  IA_CHECK(seq.list->empty() || uint64_t(n) <= kMaxBuilt / seq.list->size() / 64, "list repetition too large");
  List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  Value r = Value::make_list(std::move(out));
  r.tuple = seq.tuple;
  return r;
}

int64_t floor_div(int64_t a, int64_t b) {
  IA_CHECK(b != 0, "integer division or modulo by zero");
  IA_CHECK(!(a == INT64_MIN && b == -1), "integer overflow in template arithmetic");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Value method(const Value& self, const std::string& name,
             std::function<Value(const Value&, Args&, Kwargs&)> body) {
  return Value::callable(name, [self, body](Args& a, Kwargs& k) { return body(self, a, k); });
}

std::vector<std::string> py_split(const std::string& s, const Value& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep.is_undefined() || sep.is_none()) {
    size_t i = 0;
    auto skip_space = [&] {
      while (i < s.size()) {
        size_t j = i;
        if (!py_space(next_cp(s, j))) break;
        i = j;
      }
    };
    skip_space();
    while (i < s.size()) {
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        size_t e = s.size();
        std::string rest = s.substr(i, e - i);
        out.push_back(py_strip(rest, Value(), false, true));
        return out;
      }
      size_t start = i;
      while (i < s.size()) {
        size_t j = i;
        if (py_space(next_cp(s, j))) break;
        i = j;
      }
      out.push_back(s.substr(start, i - start));
      skip_space();
    }
    return out;
  }
  IA_CHECK(sep.is_string(), "split(): separator must be str or None, not ", sep.type_name());
  IA_CHECK(!sep.s.empty(), "split(): empty separator");
  size_t start = 0;
  while (true) {
    if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) break;
    size_t p = s.find(sep.s, start);
    if (p == std::string::npos) break;
    out.push_back(s.substr(start, p - start));
    start = p + sep.s.size();
  }
  out.push_back(s.substr(start));
  return out;
}

Value str_list(const std::vector<std::string>& parts) {
  List items;
  for (const auto& p : parts) items.push_back(Value::string(p));
  return Value::make_list(std::move(items));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    IA_CHECK(a.is_string(), prefix ? "startswith" : "endswith", "() argument must be str or a tuple of str, not ",
             a.type_name());
    if (a.s.size() > s.size()) return false;
    return prefix ? s.compare(0, a.s.size(), a.s) == 0 : s.compare(s.size() - a.s.size(), a.s.size(), a.s) == 0;
  };
  if (affix.is_list()) {
    for (const auto& a : *affix.list)
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& rep, int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts `rep` between every character
    auto chars = utf8_chars(s);
    int64_t n = 0;
    for (size_t k = 0; k <= chars.size(); ++k) {
      if (count < 0 || n < count) {
        out += rep;
        ++n;
      }
      if (k < chars.size()) out += chars[k];
      IA_CHECK(out.size() <= kMaxBuilt, "replace(): result too large");
    }
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    size_t p = s.find(old, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += rep;
    IA_CHECK(out.size() <= kMaxBuilt, "replace(): result too large");
    start = p + old.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

bool all_cps(const std::string& s, bool (*pred)(uint32_t)) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size();)
    if (!pred(next_cp(s, i))) return false;
  return true;
}

Value string_method(const Value& self, const std::string& name) {
  using F = std::function<Value(const Value&, Args&, Kwargs&)>;
  F f;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool l = name != "rstrip", r = name != "lstrip";
    f = [l, r](const Value& s, Args& a, Kwargs& k) { return Value::string(py_strip(s.s, arg(a, k, 0, "chars"), l, r)); };
  } else if (name == "split") {
    f = [](const Value& s, Args& a, Kwargs& k) {
      Value ms = arg(a, k, 1, "maxsplit");
      return str_list(py_split(s.s, arg(a, k, 0, "sep"), ms.is_integer() ? ms.as_int() : -1));
    };
  } else if (name == "startswith" || name == "endswith") {
    bool prefix = name == "startswith";
    f = [prefix](const Value& s, Args& a, Kwargs& k) { return Value::boolean(affix_match(s.s, arg(a, k, 0, "prefix"), prefix)); };
  } else if (name == "upper") {
    f = [](const Value& s, Args&, Kwargs&) { return Value::string(py_upper(s.s)); };
  } else if (name == "lower") {
    f = [](const Value& s, Args&, Kwargs&) { return Value::string(py_lower(s.s)); };
  } else if (name == "title" || name == "capitalize") {
    bool title = name == "title";
    f = [title](const Value& s, Args&, Kwargs&) {
      std::string out;
      bool prev_cased = false, first = true;
      for (size_t i = 0; i < s.s.size();) {
        uint32_t c = next_cp(s.s, i);
        bool up = title ? !prev_cased : first;
        put_cp(out, uint32_t(up ? utf8proc_totitle(utf8proc_int32_t(c)) : utf8proc_tolower(utf8proc_int32_t(c))));
        prev_cased = is_cased_letter(c);
        first = false;
      }
      return Value::string(out);
    };
  } else if (name == "replace") {
    f = [](const Value& s, Args& a, Kwargs& k) {
      Value o = arg(a, k, 0, "old"), n = arg(a, k, 1, "new"), c = arg(a, k, 2, "count");
      IA_CHECK(o.is_string() && n.is_string(), "replace() arguments must be str");
      return Value::string(py_replace(s.s, o.s, n.s, c.is_integer() ? c.as_int() : -1));
    };
  } else if (name == "join") {
    f = [](const Value& s, Args& a, Kwargs& k) {
      std::string out;
      bool first = true;
      for (const auto& e : iterate(arg(a, k, 0, "iterable"))) {
        IA_CHECK(e.is_string(), "join(): sequence item must be str, not ", e.type_name());
        if (!first) out += s.s;
        first = false;
        out += e.s;
      }
      return Value::string(out);
    };
  } else if (name == "find" || name == "count" || name == "index") {
    std::string n = name;
    f = [n](const Value& s, Args& a, Kwargs& k) {
      Value sub = arg(a, k, 0, "sub");
      IA_CHECK(sub.is_string(), n, "() argument must be str, not ", sub.type_name());
      if (n == "count") {
        if (sub.s.empty()) return Value::integer(int64_t(utf8_length(s.s)) + 1);
        int64_t c = 0;
        for (size_t p = s.s.find(sub.s); p != std::string::npos; p = s.s.find(sub.s, p + sub.s.size())) ++c;
        return Value::integer(c);
      }
      size_t p = s.s.find(sub.s);
      if (p == std::string::npos) {
        IA_CHECK(n == "find", "substring not found");
        return Value::integer(-1);
      }
      return Value::integer(int64_t(utf8_length(s.s.substr(0, p))));
    };
  } else if (name == "splitlines") {
    f = [](const Value& s, Args&, Kwargs&) {
      std::vector<std::string> parts;
      std::string cur;
      for (size_t i = 0; i < s.s.size(); ++i) {
        char c = s.s[i];
        if (c == '\n' || c == '\r') {
          parts.push_back(cur);
          cur.clear();
          if (c == '\r' && i + 1 < s.s.size() && s.s[i + 1] == '\n') ++i;
        } else {
          cur += c;
        }
      }
      if (!cur.empty()) parts.push_back(cur);
      return str_list(parts);
    };
  } else if (name == "removeprefix" || name == "removesuffix") {
    bool prefix = name == "removeprefix";
    f = [prefix](const Value& s, Args& a, Kwargs& k) {
      Value x = arg(a, k, 0, prefix ? "prefix" : "suffix");
      IA_CHECK(x.is_string(), "argument must be str");
      if (!affix_match(s.s, x, prefix)) return s;
      return Value::string(prefix ? s.s.substr(x.s.size()) : s.s.substr(0, s.s.size() - x.s.size()));
    };
  } else if (name == "isspace" || name == "isdigit" || name == "isalpha" || name == "isalnum") {
    bool (*pred)(uint32_t) = name == "isspace" ? py_space
                             : name == "isdigit" ? +[](uint32_t c) { return c >= '0' && c <= '9'; }
                             : name == "isalpha" ? +[](uint32_t c) { auto k = utf8proc_category(utf8proc_int32_t(c)); return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO; }
                             : +[](uint32_t c) { auto k = utf8proc_category(utf8proc_int32_t(c)); return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_ND; };
    f = [pred](const Value& s, Args&, Kwargs&) { return Value::boolean(all_cps(s.s, pred)); };
  } else if (name == "isupper" || name == "islower") {
    bool upper = name == "isupper";
    f = [upper](const Value& s, Args&, Kwargs&) {
      bool any = false;
      for (size_t i = 0; i < s.s.size();) {
        uint32_t c = next_cp(s.s, i);
        if (!is_cased_letter(c)) continue;
        any = true;
        bool is_up = utf8proc_category(utf8proc_int32_t(c)) != UTF8PROC_CATEGORY_LL;
        if (is_up != upper) return Value::boolean(false);
      }
      return Value::boolean(any);
    };
  } else {
    return Value::undefined("'str object' has no attribute '" + name + "'");
  }
  return method(self, name, f);
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    int which = name == "items" ? 0 : name == "keys" ? 1 : 2;
    return method(self, name, [which](const Value& d, Args&, Kwargs&) {
      List out;
      for (const auto& [k, v] : d.dict->items) {
        if (which == 1) out.push_back(Value::string(k));
        else if (which == 2) out.push_back(v);
        else {
          Value pair = Value::make_list({Value::string(k), v});
          pair.tuple = true;
          out.push_back(pair);
        }
      }
      return Value::make_list(std::move(out));
    });
  }
  if (name == "get")
    return method(self, name, [](const Value& d, Args& a, Kwargs& k) {
      Value key = arg(a, k, 0, "key"), dflt = arg(a, k, 1, "default");
      if (key.is_string())
        if (const Value* v = d.dict->find(key.s)) return *v;
      return dflt.is_undefined() ? Value::none() : dflt;
    });
  if (name == "update" || name == "pop" || name == "setdefault" || name == "clear" || name == "popitem")
    return method(self, name, [name](const Value&, Args&, Kwargs&) -> Value {
      fail("access to attribute '", name, "' of 'dict' object is unsafe (chat templates cannot modify data)");
    });
  return Value::undefined();
}

Value list_method(const Value& self, const std::string& name) {
  if (name == "append" || name == "extend" || name == "pop" || name == "insert" || name == "remove" ||
      name == "clear" || name == "sort" || name == "reverse")
    return method(self, name, [name](const Value&, Args&, Kwargs&) -> Value {
      fail("access to attribute '", name, "' of 'list' object is unsafe (chat templates cannot modify data)");
    });
  if (name == "index" || name == "count") {
    bool count = name == "count";
    return method(self, name, [count](const Value& l, Args& a, Kwargs& k) {
      Value x = arg(a, k, 0, "value");
      int64_t n = 0;
      for (size_t i = 0; i < l.list->size(); ++i)
        if (equals((*l.list)[i], x)) {
          if (!count) return Value::integer(int64_t(i));
          ++n;
        }
      IA_CHECK(count, x.repr(), " is not in list");
      return Value::integer(n);
    });
  }
  return Value::undefined();
}

std::string kind_desc(const Value& v) { return v.type_name() + " object"; }

}  // namespace

Value arg(Args& args, Kwargs& kwargs, size_t i, const char* name) {
  if (i < args.size()) return args[i];
  for (const auto& [k, v] : kwargs)
    if (k == name) return v;
  return Value::undefined();
}

void undefined_error(const Value& v) {
  fail(v.s.empty() ? std::string("value is undefined") : v.s);
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::vector<uint32_t> set;
  bool ws = chars.is_undefined() || chars.is_none();
  if (!ws) {
    IA_CHECK(chars.is_string(), "strip arg must be None or str, not ", chars.type_name());
    set = cps(chars.s);
  }
  auto strip_it = [&](uint32_t c) { return ws ? py_space(c) : std::find(set.begin(), set.end(), c) != set.end(); };
  std::vector<uint32_t> c = cps(s);
  size_t b = 0, e = c.size();
  if (left)
    while (b < e && strip_it(c[b])) ++b;
  if (right)
    while (e > b && strip_it(c[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) put_cp(out, c[i]);
  return out;
}

std::string py_upper(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) put_cp(out, uint32_t(utf8proc_toupper(utf8proc_int32_t(next_cp(s, i)))));
  return out;
}

std::string py_lower(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) put_cp(out, uint32_t(utf8proc_tolower(utf8proc_int32_t(next_cp(s, i)))));
  return out;
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj);
  if (!name.empty() && name[0] == '_') return Value::undefined("'" + kind_desc(obj) + "' has no attribute '" + name + "'");
  if (obj.is_dict()) {
    if (!obj.dict->is_namespace) {
      Value m = dict_method(obj, name);
      if (!m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict->find(name)) return *v;
    return Value::undefined("'" + kind_desc(obj) + "' has no attribute '" + name + "'");
  }
  if (obj.is_string()) return string_method(obj, name);
  if (obj.is_list()) {
    Value m = list_method(obj, name);
    if (!m.is_undefined()) return m;
  }
  return Value::undefined("'" + kind_desc(obj) + "' has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    if (key.is_string())
      if (const Value* v = obj.dict->find(key.s)) return *v;
    if (key.is_string() && !obj.dict->is_namespace) return get_attr(obj, key.s);
    return Value::undefined("'" + kind_desc(obj) + "' has no attribute " + key.repr());
  }
  if ((obj.is_list() || obj.is_string()) && key.is_integer()) {
    int64_t n = length(obj), i = key.as_int();
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::undefined(kind_desc(obj) + " has no element " + key.repr());
    if (obj.is_list()) return (*obj.list)[size_t(i)];
    if (n == int64_t(obj.s.size())) return Value::string(obj.s.substr(size_t(i), 1));
    return Value::string(utf8_chars(obj.s)[size_t(i)]);
  }
  if (key.is_string()) return get_attr(obj, key.s);
  return Value::undefined("'" + kind_desc(obj) + "' has no attribute " + key.repr());
}

Value get_slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (obj.is_undefined()) undefined_error(obj);
  IA_CHECK(obj.is_list() || obj.is_string(), "'", obj.type_name(), "' object is not subscriptable");
  auto idx = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    IA_CHECK(v.is_integer(), "slice ", what, " must be an integer or None, not ", v.type_name());
    return v.as_int();
  };
  std::vector<std::string> chars;
  bool ascii = obj.is_string() && utf8_length(obj.s) == obj.s.size();
  if (obj.is_string() && !ascii) chars = utf8_chars(obj.s);
  int64_t n = obj.is_list() ? int64_t(obj.list->size()) : ascii ? int64_t(obj.s.size()) : int64_t(chars.size());
  int64_t step = idx(step_v, "step").value_or(1);
  IA_CHECK(step != 0, "slice step cannot be zero");
  IA_CHECK(step != INT64_MIN, "slice step out of range");
  auto adjust = [&](std::optional<int64_t> v, bool is_start) -> int64_t {
    if (!v) return step < 0 ? (is_start ? n - 1 : -1) : (is_start ? 0 : n);
    int64_t x = *v;
    if (x < 0) {
      x = x < -n ? (step < 0 ? -1 : 0) : x + n;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t start = adjust(idx(start_v, "start"), true), stop = adjust(idx(stop_v, "stop"), false);
  List items;
  std::string s;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (obj.is_list()) items.push_back((*obj.list)[size_t(i)]);
    else if (ascii) s += obj.s[size_t(i)];
    else s += chars[size_t(i)];
  }
  if (obj.is_string()) return Value::string(s);
  Value r = Value::make_list(std::move(items));
  r.tuple = obj.tuple;
  return r;
}

Value unary_op(const std::string& op, const Value& a) {
  if (op == "not") return Value::boolean(!a.truthy());
  if (a.is_undefined()) undefined_error(a);
  IA_CHECK(a.is_number(), "bad operand type for unary ", op, ": '", a.type_name(), "'");
  if (op == "+") return a.kind == Value::Kind::Bool ? Value::integer(a.as_int()) : a;
  if (a.kind == Value::Kind::Float) return Value::number(-a.f);
  IA_CHECK(a.as_int() != INT64_MIN, "integer overflow in template arithmetic");
  return Value::integer(-a.as_int());
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value::string(a.str() + b.str());
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  bool nums = a.is_number() && b.is_number();
  bool ints = nums && a.is_integer() && b.is_integer();
  int64_t r = 0;
  if (op == "+") {
    if (ints) {
      check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      IA_CHECK(a.s.size() + b.s.size() <= kMaxBuilt, "string too large");
      return Value::string(a.s + b.s);
    }
    if (a.is_list() && b.is_list() && a.tuple == b.tuple) {
      List out = *a.list;
      out.insert(out.end(), b.list->begin(), b.list->end());
      IA_CHECK(out.size() <= kMaxBuilt / 64, "list too large");
      Value v = Value::make_list(std::move(out));
      v.tuple = a.tuple;
      return v;
    }
    type_error(op, a, b);
  }
  if (op == "-") {
    if (ints) {
      check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_double() - b.as_double());
    type_error(op, a, b);
  }
  if (op == "*") {
    if (ints) {
      check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
      return Value::integer(r);
    }
    if (nums) return Value::number(a.as_double() * b.as_double());
    if ((a.is_string() || a.is_list()) && b.is_integer()) return repeat(a, b.as_int());
    if (a.is_integer() && (b.is_string() || b.is_list())) return repeat(b, a.as_int());
    type_error(op, a, b);
  }
  if (!nums) type_error(op, a, b);
  if (op == "/") {
    IA_CHECK(b.as_double() != 0, "division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//") {
    if (ints) return Value::integer(floor_div(a.as_int(), b.as_int()));
    IA_CHECK(b.as_double() != 0, "float floor division by zero");
    return Value::number(std::floor(a.as_double() / b.as_double()));
  }
  if (op == "%") {
    if (ints) {
      int64_t q = floor_div(a.as_int(), b.as_int());
      return Value::integer(a.as_int() - q * b.as_int());
    }
    IA_CHECK(b.as_double() != 0, "float modulo by zero");
    double m = std::fmod(a.as_double(), b.as_double());
    if (m != 0 && ((m < 0) != (b.as_double() < 0))) m += b.as_double();
    return Value::number(m);
  }
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), acc = 1;
      while (e > 0) {
        if (e & 1) check_overflow(__builtin_mul_overflow(acc, base, &acc));
        e >>= 1;
        if (e) check_overflow(__builtin_mul_overflow(base, base, &base));
      }
      return Value::integer(acc);
    }
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  fail("unknown operator ", op);
}

bool contains(const Value& c, const Value& item) {
  if (c.is_undefined()) return false;
  if (c.is_string()) {
    IA_CHECK(item.is_string(), "'in <string>' requires string as left operand, not ", item.type_name());
    return c.s.find(item.s) != std::string::npos;
  }
  if (c.is_list()) {
    for (const auto& e : *c.list)
      if (equals(e, item)) return true;
    return false;
  }
  if (c.is_dict() && !c.dict->is_namespace) return item.is_string() && c.dict->find(item.s) != nullptr;
  fail("argument of type '", c.type_name(), "' is not iterable");
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  if (op == "<") return less_than(a, b);
  if (op == ">") return less_than(b, a);
  if (op == "<=") return less_than(a, b) || equals(a, b);
  if (op == ">=") return less_than(b, a) || equals(a, b);
  fail("unknown comparison ", op);
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return *v.list;
    case Value::Kind::String: {
      std::vector<Value> out;
      for (auto& c : utf8_chars(v.s)) out.push_back(Value::string(std::move(c)));
      return out;
    }
    case Value::Kind::Dict:
      if (!v.dict->is_namespace) {
        std::vector<Value> out;
        for (const auto& kv : v.dict->items) out.push_back(Value::string(kv.first));
        return out;
      }
      [[fallthrough]];
    default: fail("'", v.type_name(), "' object is not iterable");
  }
}

int64_t length(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return int64_t(utf8_length(v.s));
    case Value::Kind::List: return int64_t(v.list->size());
    case Value::Kind::Dict:
      if (!v.dict->is_namespace) return int64_t(v.dict->items.size());
      [[fallthrough]];
    default: fail("object of type '", v.type_name(), "' has no len()");
  }
}

}  // namespace ia::jinja
