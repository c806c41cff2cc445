// Values of the Jinja interpreter, with Python semantics (what jinja2 does
// when a chat template runs under transformers): None, bool, int, float, str,
// list, dict (insertion ordered), namespace, callables, and jinja2's default
// Undefined (prints as "", is falsy, iterates as empty, raises when used in
// arithmetic or attribute access).
//
// Lists and dicts are shared by reference, as in Python.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ia::jinja {

struct Value;
using List = std::vector<Value>;
struct Dict;
struct Callable;

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Callable };
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                    // String; for Undefined: the name that was looked up (for errors)
  std::shared_ptr<List> list;       // List (also tuples)
  bool tuple = false;               // a List that prints as a Python tuple
  std::shared_ptr<Dict> dict;       // Dict; namespace() objects are dicts with is_namespace
  std::shared_ptr<Callable> fn;     // Callable

  Value() = default;
  static Value undefined(std::string name = {}) { Value v; v.s = std::move(name); return v; }
  static Value none() { Value v; v.kind = Kind::None; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
  static Value number(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static Value make_list(List items = {});
  static Value make_dict();
  static Value make_namespace();
  static Value callable(std::string name, std::function<Value(std::vector<Value>&, std::vector<std::pair<std::string, Value>>&)> f);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_dict() const { return kind == Kind::Dict; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
  bool is_integer() const { return kind == Kind::Int || kind == Kind::Bool; }
  double as_double() const { return kind == Kind::Float ? f : double(kind == Kind::Bool ? int64_t(b) : i); }
  int64_t as_int() const { return kind == Kind::Bool ? int64_t(b) : i; }

  bool truthy() const;
  // str(value) as Python prints it; Undefined -> "".
  std::string str() const;
  // repr(value) as Python prints it (strings quoted), used inside lists and dicts.
  std::string repr() const;
  // Python type name, for error messages ("str", "int", "list", "dict", ...).
  std::string type_name() const;
};

struct Dict {
  std::vector<std::pair<std::string, Value>> items;  // insertion order, as Python dicts
  bool is_namespace = false;
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
};

struct Callable {
  std::string name;
  std::function<Value(std::vector<Value>& args, std::vector<std::pair<std::string, Value>>& kwargs)> call;
};

// Python ==, with int/float/bool comparing numerically and lists/dicts deeply.
bool equals(const Value& a, const Value& b);
// Python <, for numbers, strings and lists; throws ia::Error otherwise.
bool less_than(const Value& a, const Value& b);

// Unicode code points of a UTF-8 string (Python indexes strings by code point).
std::vector<std::string> utf8_chars(const std::string& s);
size_t utf8_length(const std::string& s);

// json.dumps(value, ensure_ascii=False, indent=indent, separators=..., sort_keys=...)
// as transformers' tojson filter calls it. indent < 0 means None.
std::string to_json(const Value& v, int indent, const std::string& item_sep, const std::string& key_sep, bool sort_keys);
// Python's repr of a float (shortest round-trip form: 1.0, 0.1, 1e-05, 1e+16, inf, nan).
std::string float_repr(double d);

// Builds a Value from JSON text (objects keep their key order). `source` names the text in errors.
Value from_json_text(const std::string& text, const std::string& source);

}  // namespace ia::jinja
