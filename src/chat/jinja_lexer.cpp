#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "core/error.h"

namespace ia::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(const std::string& src, const std::string& name, const LexOptions& opt) : name_(name), opt_(opt) {
    // Newlines normalised to \n and one trailing newline dropped, as jinja2's lexer does.
    src_.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      if (src[i] == '\r') {
        src_ += '\n';
        if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
      } else {
        src_ += src[i];
      }
    }
    if (!opt_.keep_trailing_newline && !src_.empty() && src_.back() == '\n') src_.pop_back();
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit_data(src_.substr(pos), pos);
        break;
      }
      char kind = src_[start + 1];  // '{', '%' or '#'
      char mod = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (mod != '-' && mod != '+') mod = '\0';
      std::string text = src_.substr(pos, start - pos);
      if (mod == '-') {
        size_t e = text.size();
        while (e > 0 && is_space(text[e - 1])) --e;
        text.resize(e);
      } else if (mod != '+' && opt_.lstrip_blocks && kind != '{') {
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
            std::all_of(text.begin() + long(l_pos), text.end(), is_space))
          text.resize(l_pos);
      }
      emit_data(text, pos);
      size_t body = start + 2 + (mod ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(start, body);
      } else if (kind == '{') {
        pos = lex_tag(start, body, Token::Type::VarBegin);
      } else {
        pos = lex_tag(start, body, Token::Type::BlockBegin);
      }
      line_starting = pos > 0 && src_[pos - 1] == '\n';
    }
    tokens_.push_back(Token{Token::Type::Eof, "", 0, 0, line_of(src_.size()), col_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  int line_of(size_t off) const {
    return int(std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - line_starts_.begin()) + 1;
  }
  int col_of(size_t off) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    size_t ls = it == line_starts_.begin() ? 0 : *(it - 1);
    return int(off - ls) + 1;
  }
  [[noreturn]] void error(size_t off, const std::string& msg) const {
    fail(name_, ":", line_of(off), ":", col_of(off), ": syntax error: ", msg);
  }
  void push(Token::Type t, std::string text, size_t off) {
    Token tok{t, std::move(text), 0, 0, line_of(off), col_of(off)};
    tokens_.push_back(std::move(tok));
  }
  void emit_data(const std::string& text, size_t off) {
    if (!text.empty()) push(Token::Type::Data, text, off);
  }

  size_t find_tag(size_t pos) const {
    for (size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  // After a block / comment end: `-` eats all whitespace, `+` nothing, otherwise
  // trim_blocks eats one newline.
  size_t after_block_end(size_t p, char mod) const {
    if (mod == '-') {
      while (p < src_.size() && is_space(src_[p])) ++p;
    } else if (mod != '+' && opt_.trim_blocks && p < src_.size() && src_[p] == '\n') {
      ++p;
    }
    return p;
  }

  size_t lex_comment(size_t start, size_t body) {
    size_t e = src_.find("#}", body);
    if (e == std::string::npos) error(start, "unterminated comment (missing '#}')");
    char mod = (e > body && (src_[e - 1] == '-' || src_[e - 1] == '+')) ? src_[e - 1] : '\0';
    return after_block_end(e + 2, mod);
  }

  size_t lex_tag(size_t start, size_t p, Token::Type begin) {
    bool block = begin == Token::Type::BlockBegin;
    push(begin, "", start);
    size_t first_tok = tokens_.size();
    int depth = 0;  // open brackets: a `}}` inside a dict literal is not the tag end
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size()) error(start, block ? "unterminated '{%' tag" : "unterminated '{{' tag");
      char mod = (src_[p] == '-' || src_[p] == '+') ? src_[p] : '\0';
      size_t q = p + (mod ? 1 : 0);
      if (depth == 0 && q + 1 < src_.size() && src_[q] == (block ? '%' : '}') && src_[q + 1] == '}') {
        push(block ? Token::Type::BlockEnd : Token::Type::VarEnd, "", p);
        size_t after = q + 2;
        if (!block) {
          if (mod == '-')
            while (after < src_.size() && is_space(src_[after])) ++after;
          return after;
        }
        after = after_block_end(after, mod);
        if (tokens_.size() == first_tok + 2 && tokens_[first_tok].type == Token::Type::Name &&
            tokens_[first_tok].text == "raw")
          return lex_raw(start, after);
        return after;
      }
      p = lex_expr_token(p, depth);
    }
  }

  // `{% raw %}...{% endraw %}`: the content is data, verbatim.
  size_t lex_raw(size_t start, size_t p) {
    tokens_.resize(tokens_.size() - 3);  // drop `{% raw %}`
    size_t search = p;
    while (true) {
      size_t i = src_.find("{%", search);
      if (i == std::string::npos) error(start, "unterminated '{% raw %}' block (missing endraw)");
      size_t q = i + 2;
      char mod = (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) ? src_[q] : '\0';
      if (mod) ++q;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) {
        search = i + 2;
        continue;
      }
      q += 6;
      while (q < src_.size() && is_space(src_[q])) ++q;
      char emod = (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) ? src_[q] : '\0';
      if (emod) ++q;
      if (src_.compare(q, 2, "%}") != 0) error(i, "malformed endraw tag");
      std::string text = src_.substr(p, i - p);
      if (mod == '-') {
        size_t e = text.size();
        while (e > 0 && is_space(text[e - 1])) --e;
        text.resize(e);
      }
      emit_data(text, p);
      return after_block_end(q + 2, emod);
    }
  }

  size_t lex_expr_token(size_t p, int& depth) {
    char c = src_[p];
    if (is_ident_start(c)) {
      size_t e = p;
      while (e < src_.size() && (is_ident_start(src_[e]) || is_digit(src_[e]))) ++e;
      push(Token::Type::Name, src_.substr(p, e - p), p);
      return e;
    }
    if (is_digit(c)) return lex_number(p);
    if (c == '\'' || c == '"') return lex_string(p);
    static const char* ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">",
                                "=",  ".",  ",",  ":",  "|",  "(",  ")", "[", "]", "{", "}", ";"};
    for (const char* op : ops) {
      size_t n = std::char_traits<char>::length(op);
      if (src_.compare(p, n, op) == 0) {
        if (*op == '(' || *op == '[' || *op == '{') ++depth;
        if ((*op == ')' || *op == ']' || *op == '}') && depth > 0) --depth;
        push(Token::Type::Op, op, p);
        return p + n;
      }
    }
    error(p, std::string("unexpected character '") + c + "'");
  }

  size_t lex_number(size_t p) {
    size_t e = p;
    auto digits = [&] {
      while (e < src_.size() && (is_digit(src_[e]) || (src_[e] == '_' && e + 1 < src_.size() && is_digit(src_[e + 1]))))
        ++e;
    };
    digits();
    bool after_dot = !tokens_.empty() && tokens_.back().type == Token::Type::Op && tokens_.back().text == ".";
    bool is_float = false;
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      ++e;
      digits();
      is_float = true;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t f = e + 1;
      if (f < src_.size() && (src_[f] == '+' || src_[f] == '-')) ++f;
      if (f < src_.size() && is_digit(src_[f])) {
        e = f;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = p; i < e; ++i)
      if (src_[i] != '_') text += src_[i];
    Token tok{is_float ? Token::Type::Float : Token::Type::Int, text, 0, 0, line_of(p), col_of(p)};
    errno = 0;
    if (is_float) {
      tok.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      tok.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) error(p, "integer literal out of range: " + text);
    }
    tokens_.push_back(std::move(tok));
    return e;
  }

  // Python string literal rules (jinja2 decodes them with "unicode-escape").
  size_t lex_string(size_t p) {
    char q = src_[p];
    std::string out;
    size_t i = p + 1;
    while (true) {
      if (i >= src_.size()) error(p, "unterminated string literal");
      char c = src_[i];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= src_.size()) error(p, "unterminated string literal");
      char n = src_[i + 1];
      i += 2;
      switch (n) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t len = n == 'x' ? 2 : n == 'u' ? 4 : 8;
          if (i + len > src_.size()) error(i - 2, "truncated \\" + std::string(1, n) + " escape");
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            char h = src_[i + k];
            int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) error(i - 2, "truncated \\" + std::string(1, n) + " escape");
            cp = cp * 16 + uint32_t(d);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) error(i - 2, "invalid code point in escape");
          append_utf8(out, cp);
          i += len;
          break;
        }
        default:
          if (n >= '0' && n <= '7') {
            uint32_t cp = uint32_t(n - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k, ++i)
              cp = cp * 8 + uint32_t(src_[i] - '0');
            append_utf8(out, cp);
          } else {
            out += '\\';
            out += n;
          }
      }
    }
    push(Token::Type::String, out, p);
    return i + 1;
  }

  std::string src_;
  std::string name_;
  LexOptions opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex(const std::string& source, const std::string& name, const LexOptions& opt) {
  return Lexer(source, name, opt).run();
}

}  // namespace ia::jinja
