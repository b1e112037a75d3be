#include "nri/wire.h"

#include <string>

#include <gtest/gtest.h>

#include "nri/nri_api.pb.h"

namespace cdi::nri {
namespace {

namespace pb = ::nri::pkg::api::v1alpha1;

// What the writer makes is what protobuf makes of the same values, and reads back.
TEST(WireWriter, MatchesProtobufForEveryKindOfField) {
  std::string device, uid, gid, mode;
  WireWriter(mode).varint(1, 0640);
  WireWriter(uid).varint(1, 0);  // present with the value 0: an empty body
  WireWriter w(device);
  w.string(1, "/dev/x");
  w.string(2, "c");
  w.signed_varint(3, 195);
  w.signed_varint(4, 0);
  w.message(5, mode);
  w.message(6, uid);
  pb::LinuxDevice d;
  d.set_path("/dev/x");
  d.set_type("c");
  d.set_major(195);
  d.mutable_file_mode()->set_value(0640);
  d.mutable_uid()->set_value(0);
  EXPECT_EQ(device, d.SerializeAsString());

  std::string hook;
  WireWriter h(hook);
  h.string(1, "/bin/h");
  h.element(2, "");
  h.element(2, "arg");
  pb::Hook parsed;
  ASSERT_TRUE(parsed.ParseFromString(hook));
  EXPECT_EQ(parsed.path(), "/bin/h");
  ASSERT_EQ(parsed.args_size(), 2);
  EXPECT_EQ(parsed.args(0), "");
  EXPECT_EQ(parsed.args(1), "arg");

  std::string rule;
  WireWriter r(rule);
  r.boolean(1, false);
  r.boolean(1, true);
  pb::LinuxDeviceCgroup c;
  c.set_allow(true);
  EXPECT_EQ(rule, c.SerializeAsString());

  std::string big;
  WireWriter(big).signed_varint(1, -1);
  pb::OptionalInt64 negative;
  negative.set_value(-1);
  EXPECT_EQ(big, negative.SerializeAsString());
  std::string large(300, 'x'), encoded;
  WireWriter(encoded).string(1, large);
  pb::CDIDevice cdi;
  ASSERT_TRUE(cdi.ParseFromString(encoded));
  EXPECT_EQ(cdi.name(), large);
}

// A message written in place (nested, wrapped) is the same bytes as one built
// apart and written whole, at every depth and for empty bodies.
TEST(WireWriter, NestedInPlaceMatchesMessageBuiltApart) {
  std::string long_value(200, 'v');  // a length of two varint bytes
  std::string apart, inner, innermost;
  WireWriter(innermost).varint(1, 300);
  WireWriter in(inner);
  in.string(1, long_value);
  in.message(2, innermost);
  in.message(3, "");
  in.message(4, std::string("\x08\x01", 2));  // {1: 1}
  in.message(5, "");                          // {1: 0}: empty
  WireWriter(apart).message(7, inner);

  std::string in_place;
  WireWriter(in_place).nested(7, [&](auto& w) {
    w.string(1, long_value);
    w.nested(2, [](auto& x) { x.varint(1, 300); });
    w.nested(3, [](auto&) {});
    w.wrapped(4, 1);
    w.wrapped(5, 0);
  });
  EXPECT_EQ(in_place, apart);

  pb::Hook hook;
  hook.set_path("/bin/h");
  hook.mutable_timeout()->set_value(300);
  std::string written;
  WireWriter(written).nested(1, [](auto& w) {
    w.string(1, "/bin/h");
    w.wrapped(4, 300);
  });
  pb::Hooks hooks;
  ASSERT_TRUE(hooks.ParseFromString(written));
  ASSERT_EQ(hooks.prestart_size(), 1);
  EXPECT_EQ(hooks.prestart(0).SerializeAsString(), hook.SerializeAsString());
}

// append_fields writes what a writer appending field by field writes, after
// what `out` held, at every depth and with lengths of more than one byte.
TEST(WireWriter, AppendFieldsMatchesFieldByField) {
  std::string long_value(300, 'v');
  auto body = [&](auto& w) {
    w.string(1, "first");
    w.nested(2, [&](auto& a) {
      a.nested(3, [&](auto& b) {
        b.string(1, long_value);
        b.nested(2, [](auto& c) { c.varint(1, 300); });
        b.nested(3, [](auto&) {});
      });
      a.wrapped(4, 1);
      a.nested(5, [&](auto& b) { b.element(1, long_value + long_value); });
    });
    w.varint(3, 7);
  };
  std::string expected = "kept", appended = "kept";
  WireWriter field_by_field(expected);
  body(field_by_field);
  append_fields(appended, body);
  EXPECT_EQ(appended, expected);
  std::string empty;
  append_fields(empty, [](auto&) {});
  EXPECT_EQ(empty, "");
}

// In one pass, a nested message's length is set after its body: bodies just
// under and over each varint length boundary (1, 2 and 3 length bytes, and
// the empty body) come out as protobuf writes them, nested and side by side.
TEST(WireWriter, AppendFieldsSetsEveryLengthAfterItsBody) {
  for (size_t size : {0, 1, 126, 127, 128, 129, 16382, 16383, 16384, 16385, 2097151, 2097152}) {
    SCOPED_TRACE(size);
    std::string value(size, 'x');
    auto body = [&](auto& w) {
      w.nested(1, [&](auto& outer) {
        outer.nested(2, [&](auto& inner) { inner.element(3, value); });
        outer.nested(2, [&](auto& inner) { inner.string(3, value); });
      });
      w.varint(2, 1);
    };
    std::string expected = "kept", appended = "kept";
    WireWriter field_by_field(expected);
    body(field_by_field);
    append_fields(appended, body);
    ASSERT_EQ(appended.size(), expected.size());
    EXPECT_TRUE(appended == expected);
  }
}

// Every short length has its own copy path (0, 1-3, 4-7, 8-15, 16-32, more):
// each comes out as protobuf writes it.
TEST(WireWriter, AppendFieldsCopiesEveryShortLength) {
  std::string text;
  for (size_t i = 0; i < 40; ++i) text += static_cast<char>('a' + i % 26);
  for (size_t size = 0; size <= text.size(); ++size) {
    SCOPED_TRACE(size);
    auto body = [&](auto& w) { w.nested(1, [&](auto& n) { n.element(2, std::string_view(text).substr(0, size)); }); };
    std::string expected, appended;
    WireWriter field_by_field(expected);
    body(field_by_field);
    append_fields(appended, body);
    EXPECT_EQ(appended, expected);
  }
}

// The answer's string keeps its room between requests: a shorter answer
// after a longer one is cut to its own length.
TEST(WireWriter, AppendFieldsIntoAStringThatHeldMore) {
  std::string out;
  append_fields(out, [](auto& w) { w.string(1, std::string(5000, 'a')); });
  out.clear();
  append_fields(out, [](auto& w) { w.nested(1, [](auto& n) { n.varint(1, 300); }); });
  std::string expected;
  WireWriter(expected).nested(1, [](auto& n) { n.varint(1, 300); });
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace cdi::nri
