// Jinja syntax tree: one node type for expressions and statements (the
// interpreter switches on `kind`); children are owned.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_value.h"

namespace ia::jinja {

struct Node;
using NodePtr = std::unique_ptr<Node>;
using NodeList = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    // expressions
    Literal,    // lit
    Name,       // name
    ListLit,    // a = items
    TupleLit,   // a = items
    DictLit,    // a = key0, value0, key1, value1, ...
    Attr,       // a[0].name
    Subscript,  // a[0][a[1]]
    Slice,      // a[0][a[1]:a[2]:a[3]] (null = omitted)
    Call,       // a[0](a[1..]); the last names.size() arguments are keyword arguments named by `names`
    Filter,     // a[0] | name(a[1..]) (kwargs as Call); a[0] is null inside `{% filter %}`
    Test,       // a[0] is [not] name(a[1..]); flag = negated
    Unary,      // name ("-", "+", "not") a[0]
    Binary,     // a[0] name a[1]: + - * / // % ** ~ and or
    Compare,    // a[0] names[0] a[1] names[1] a[2] ... (== != < <= > >= in notin)
    CondExpr,   // a[1] if a[0] else a[2] (a[2] may be null -> undefined)
    // statements
    Text,       // lit.s verbatim
    Output,     // {{ a[0] }}
    If,         // if a[0]: body else: orelse (elif = nested If in orelse)
    For,        // for names in a[0] [if a[1]]: body else: orelse; flag = recursive
    Set,        // names = a[0]; or, with body, {% set name %}body{% endset %} (a[1]: optional filter);
                // name non-empty: namespace attribute `name.names[0] = a[0]`
    Macro,      // macro name(names...) with defaults a[i] (null = none): body
    CallBlock,  // {% call a[0] %}body{% endcall %} (caller() renders body); names = caller params
    FilterBlock,// {% filter a[0] %}body{% endfilter %}
    With,       // {% with names = a... %}body{% endwith %}
    Break,
    Continue,
    Block,      // plain body (e.g. {% generation %}), rendered in place
  };
  Kind kind;
  int line = 0, col = 0;
  std::string name;
  Value lit;
  NodeList a;
  std::vector<std::string> names;
  NodeList body, orelse;
  bool flag = false;

  Node(Kind k, int l, int c) : kind(k), line(l), col(c) {}
};

}  // namespace ia::jinja
