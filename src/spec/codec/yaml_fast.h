// A hand-written reader for the block-style YAML that CDI spec files are
// written in (what Go's YAML emitters and nvidia-ctk produce), as a fast path
// in front of libyaml: it skips libyaml's per-character reader and per-token
// allocations.
//
// It never reports errors. It declines (returns nullopt) anything outside its
// subset and anything that might be an error; the caller then runs the libyaml
// path, which has the last word and the error messages. The subset:
//   - an optional `---` line, comments, blank lines, LF line endings, printable
//     ASCII or well-formed UTF-8 (columns count characters, as libyaml's do);
//   - block mappings and sequences indented with spaces, with indentless
//     sequences (`key:` then `- x` at the key's column), compact nested
//     collections (`- key: v`, `- - x`), and empty values (`key:` then a line
//     that is not more indented);
//   - one-line scalars: plain (YAML's block-context rules), single-quoted and
//     double-quoted (every escape libyaml knows);
//   - one-line flow collections: `[]`, `{}`, and `[a, "b", 'c']` of scalars;
//   - a second `---` line ends the document, as libyaml's path stops at the
//     first document's end.
// Everything else declines: tabs, CR, a BOM, directives, `...`, anchors,
// aliases, tags, block scalars, `?` keys, multi-line scalars, other flow
// content, depth or event counts beyond `Limits`.
//
// Contract: for every input it accepts, the tape equals what
// yaml_to_tape_libyaml() gives, event for event (type, style, text, tag, line
// and column), except the positions of map_end and seq_end events, which
// nothing reads: here a flow collection's end is at its `]` or `}`, a block
// collection's at the first token after it (or the end of the input, or the
// next `---`), where libyaml's may differ.
#pragma once

#include <optional>
#include <string_view>

#include "spec/codec/tape.h"

namespace cdi::codec {

std::optional<Tape> yaml_to_tape_fast(std::string_view bytes, const Limits& limits = {});

}  // namespace cdi::codec
