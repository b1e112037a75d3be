#include "spec/codec/yaml_tape.h"

#include <yaml.h>

#include <algorithm>
#include <map>
#include <memory>

#include "spec/codec/yaml_fast.h"

namespace cdi::codec {

namespace {

std::string_view as_view(const yaml_char_t* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

class Parser {
 public:
  explicit Parser(std::string_view bytes) : bytes_(bytes) {
    yaml_parser_initialize(&parser_);
    // libyaml asserts a non-null input, which an empty string_view need not have.
    const char* data = bytes.empty() ? "" : bytes.data();
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(data), bytes.size());
  }
  ~Parser() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Advances to the next event; false on a parse error (see error()).
  bool next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = yaml_parser_parse(&parser_, &event_) != 0;
    return has_event_;
  }
  const yaml_event_t& event() const { return event_; }

  Error error() const {
    if (auto tab = tab_in_indentation()) {
      return Error("invalid YAML: a tab character in the indentation (YAML indents with spaces only)")
          .at(tab->line, tab->column);
    }
    std::string msg = parser_.problem ? parser_.problem : "malformed YAML";
    if (parser_.context) {
      msg += std::string(" ") + parser_.context + " started at line " + std::to_string(parser_.context_mark.line + 1) +
             " column " + std::to_string(parser_.context_mark.column + 1);
    }
    return Error("invalid YAML: " + msg)
        .at(static_cast<int>(parser_.problem_mark.line + 1), static_cast<int>(parser_.problem_mark.column + 1));
  }

 private:
  // libyaml stops at a tab in the indentation with words that do not say
  // "tab" ("found character that cannot start any token"): find it.
  std::optional<SourcePos> tab_in_indentation() const {
    size_t line = parser_.problem_mark.line;
    size_t start = 0;
    for (size_t n = 0; n < line; ++n) {
      size_t nl = bytes_.find('\n', start);
      if (nl == std::string_view::npos) return std::nullopt;
      start = nl + 1;
    }
    size_t indent_end = bytes_.find_first_not_of(" \t", start);
    if (indent_end == std::string_view::npos) indent_end = bytes_.size();
    size_t tab = bytes_.find('\t', start);
    if (tab >= indent_end || parser_.problem_mark.column > indent_end - start) return std::nullopt;
    return SourcePos{static_cast<int>(line + 1), static_cast<int>(tab - start + 1)};
  }

  std::string_view bytes_;
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
};

struct OpenAnchor {
  std::string name;
  size_t begin;
  size_t depth;
};

class TapeBuilder {
 public:
  TapeBuilder(std::string_view bytes, const Limits& limits)
      : parser_(bytes), tape_(bytes.size() + 64, std::min(bytes.size() / 4 + 16, limits.max_events)), limits_(limits) {}

  Result<Tape> run() {
    for (;;) {
      if (!parser_.next()) return parser_.error();
      const yaml_event_t& e = parser_.event();
      switch (e.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
          break;
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
          return std::move(tape_);
        case YAML_ALIAS_EVENT:
          CDI_TRY(alias(e));
          break;
        case YAML_SCALAR_EVENT:
          CDI_TRY(scalar(e));
          break;
        case YAML_MAPPING_START_EVENT:
          CDI_TRY(open(e, EventType::map_start, e.data.mapping_start.anchor, e.data.mapping_start.tag));
          break;
        case YAML_SEQUENCE_START_EVENT:
          CDI_TRY(open(e, EventType::seq_start, e.data.sequence_start.anchor, e.data.sequence_start.tag));
          break;
        case YAML_MAPPING_END_EVENT:
          CDI_TRY(close(e, EventType::map_end));
          break;
        case YAML_SEQUENCE_END_EVENT:
          CDI_TRY(close(e, EventType::seq_end));
          break;
        case YAML_NO_EVENT:
          return Error("invalid YAML: unexpected end of input");
      }
    }
  }

 private:
  static int line_of(const yaml_mark_t& m) { return static_cast<int>(m.line + 1); }
  static int column_of(const yaml_mark_t& m) { return static_cast<int>(m.column + 1); }

  Status room(const yaml_event_t& e) const {
    if (tape_.events.size() < limits_.max_events && tape_.text_bytes() < kMaxTapeText) return {};
    return Error("document too large: more than " + std::to_string(limits_.max_events) + " nodes after alias expansion")
        .at(line_of(e.start_mark), column_of(e.start_mark));
  }

  Status open(const yaml_event_t& e, EventType type, const yaml_char_t* anchor, const yaml_char_t* tag) {
    if (++depth_ > limits_.max_depth) {
      return Error("nesting deeper than " + std::to_string(limits_.max_depth) + " levels")
          .at(line_of(e.start_mark), column_of(e.start_mark));
    }
    CDI_TRY(room(e));
    if (anchor) open_anchors_.push_back({std::string(as_view(anchor)), tape_.events.size(), depth_});
    tape_.open(type, line_of(e.start_mark), column_of(e.start_mark), as_view(tag));
    return {};
  }

  Status close(const yaml_event_t& e, EventType type) {
    CDI_TRY(room(e));
    tape_.close(type, line_of(e.start_mark), column_of(e.start_mark));
    if (!open_anchors_.empty() && open_anchors_.back().depth == depth_) {
      auto& a = open_anchors_.back();
      anchors_[a.name] = {a.begin, tape_.events.size()};
      open_anchors_.pop_back();
    }
    --depth_;
    return {};
  }

  Status scalar(const yaml_event_t& e) {
    CDI_TRY(room(e));
    const auto& s = e.data.scalar;
    size_t at = tape_.events.size();
    tape_.scalar(s.style == YAML_PLAIN_SCALAR_STYLE ? ScalarStyle::yaml_plain : ScalarStyle::yaml_quoted,
                 line_of(e.start_mark), column_of(e.start_mark),
                 std::string_view(reinterpret_cast<const char*>(s.value), s.length), as_view(s.tag));
    if (s.anchor) anchors_[std::string(as_view(s.anchor))] = {at, at + 1};
    return {};
  }

  Status alias(const yaml_event_t& e) {
    std::string name(as_view(e.data.alias.anchor));
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      bool open = false;
      for (const auto& a : open_anchors_) open = open || a.name == name;
      return Error(open ? "alias *" + name + " refers to the node that contains it"
                        : "alias *" + name + " refers to an unknown anchor")
          .at(static_cast<int>(e.start_mark.line + 1), static_cast<int>(e.start_mark.column + 1));
    }
    auto [begin, end] = it->second;
    if (tape_.events.size() + (end - begin) > limits_.max_events) {
      return Error("document too large: more than " + std::to_string(limits_.max_events) +
                   " nodes after alias expansion")
          .at(line_of(e.start_mark), column_of(e.start_mark));
    }
    tape_.copy(begin, end, limits_.max_events);
    return {};
  }

  Parser parser_;
  Tape tape_;
  Limits limits_;
  size_t depth_ = 0;
  std::vector<OpenAnchor> open_anchors_;
  std::map<std::string, std::pair<size_t, size_t>> anchors_;
};

bool is_plain_str_tag(const yaml_event_t& e) {
  auto tag = as_view(e.data.scalar.tag);
  return tag.empty() || tag == "tag:yaml.org,2002:str";
}

}  // namespace

Result<Tape> yaml_to_tape_libyaml(std::string_view bytes, const Limits& limits) {
  TapeBuilder builder(bytes, limits);
  return builder.run();
}

Result<Tape> yaml_to_tape(std::string_view bytes, const Limits& limits) {
  if (std::optional<Tape> tape = yaml_to_tape_fast(bytes, limits)) return std::move(*tape);
  return yaml_to_tape_libyaml(bytes, limits);
}

PeekedKind peek_yaml_kind(std::string_view bytes) {
  Parser p(bytes);
  // Stream start, document start, then the root mapping.
  for (int i = 0; i < 3; ++i) {
    if (!p.next()) return {};
  }
  if (p.event().type != YAML_MAPPING_START_EVENT) return {};
  size_t depth = 1;
  bool at_key = true;
  bool want_kind = false;
  while (p.next()) {
    const yaml_event_t& e = p.event();
    switch (e.type) {
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT:
        if (depth == 1 && (at_key || want_kind)) return {};
        ++depth;
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        if (--depth == 0) return {KindPeek::absent, {}};
        if (depth == 1) at_key = true;
        break;
      case YAML_ALIAS_EVENT:
        if (depth == 1) {
          if (at_key || want_kind) return {};
          at_key = true;
        }
        break;
      case YAML_SCALAR_EVENT:
        if (depth != 1) break;
        if (at_key) {
          std::string_view key(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
          want_kind = key == "kind" && is_plain_str_tag(e);
          at_key = false;
        } else if (want_kind) {
          std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
          if (!is_plain_str_tag(e) || value.empty()) return {};
          return {KindPeek::found, std::string(value)};
        } else {
          at_key = true;
        }
        break;
      default:
        return {};
    }
  }
  return {};
}

}  // namespace cdi::codec
