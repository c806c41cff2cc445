// The Python / jinja2 behaviour behind the interpreter: attribute and item
// access, operators, iteration, str methods (jinja_ops.cpp) and the filters,
// tests and globals (jinja_filters.cpp). Errors are ia::Error with jinja2's
// wording; the interpreter adds the template location.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"
#include "core/error.h"

namespace ia::jinja {

using Args = std::vector<Value>;
using Kwargs = std::vector<std::pair<std::string, Value>>;

// Raised by raise_exception(): the interpreter reports it without rewording.
struct TemplateRaised : Error {
  explicit TemplateRaised(const std::string& m) : Error(m) {}
};

// Throws the UndefinedError jinja2 raises when an Undefined is used as a value.
[[noreturn]] void undefined_error(const Value& v);

// obj.name: dict methods (items, keys, values, get) and str / list methods as
// bound callables, then dict keys; missing -> Undefined (an error on Undefined).
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: dict key, list / str index (negative from the end); missing -> Undefined.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] with Python's index rules (null Values = omitted: pass Undefined).
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

Value binary_op(const std::string& op, const Value& a, const Value& b);
Value unary_op(const std::string& op, const Value& a);
bool compare_op(const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);

// What `for x in v` visits: list items, dict keys, str characters; Undefined -> nothing.
std::vector<Value> iterate(const Value& v);
// len(v) for str (code points), list, dict; Undefined -> 0.
int64_t length(const Value& v);

// Python str methods (a few the templates use) and helpers shared with filters.
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);

Value apply_filter(const std::string& name, const Value& v, Args& args, Kwargs& kwargs);
bool apply_test(const std::string& name, const Value& v, Args& args, Kwargs& kwargs);
// Globals every template sees: range, namespace, dict, raise_exception, cycler, joiner.
void add_globals(Dict& globals);

// Positional-or-keyword argument `i` / `name` (Undefined if absent).
Value arg(Args& args, Kwargs& kwargs, size_t i, const char* name);

}  // namespace ia::jinja
