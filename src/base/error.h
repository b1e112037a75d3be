// Errors as values. An Error names the problem and where it is: the file (with
// line and column when known), the field path inside it, and the CDI device.
// Each layer adds context in front, so the printed line reads outermost first.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cdi {

// What kind of failure an error is, in the terms its callers act on; set where
// the error is made. app/error_report.h maps each kind to an exit code and an
// RPC status, for every front end alike.
enum class ErrorKind : unsigned char {
  failure,          // input, a spec or an edit that cannot be used (the default)
  usage,            // a wrong command line, option or configuration value
  invalid_request,  // the request itself is malformed: a device name, an annotation, the OCI config
  not_found,        // a requested device has no usable definition
  io,               // a system call failed (sys_errno says which error)
};

// Line and column (1-based) of something in a source file.
struct SourcePos {
  int line = 0;
  int column = 0;
};

struct Error {
  std::string message;               // the problem itself, quoting the culprit
  std::string file;                  // file the problem is in, when there is one
  int line = 0;                      // 1-based; 0 = unknown
  int column = 0;                    // 1-based; 0 = unknown
  std::string field;                 // field path, e.g. devices[0].containerEdits.env[1]
  std::string device;                // qualified device name, when one is concerned
  std::vector<std::string> context;  // outer context, outermost first
  int sys_errno = 0;                 // errno of a failed system call, 0 otherwise
  ErrorKind kind = ErrorKind::failure;

  Error() = default;
  explicit Error(std::string msg) : message(std::move(msg)) {}

  // Builders: each returns *this so callers can chain them on a temporary.
  Error& in_file(std::string path, int line_no = 0, int col = 0) &;
  Error&& in_file(std::string path, int line_no = 0, int col = 0) &&;
  Error& at(int line_no, int col) &;
  Error&& at(int line_no, int col) &&;
  // Prefixes a field path: at_field("devices[0]") on "containerEdits.env[1]"
  // gives "devices[0].containerEdits.env[1]".
  Error& at_field(std::string_view outer) &;
  Error&& at_field(std::string_view outer) &&;
  Error& for_device(std::string name) &;
  Error&& for_device(std::string name) &&;
  Error& with_context(std::string ctx) &;
  Error&& with_context(std::string ctx) &&;
  Error& of_kind(ErrorKind k) &;
  Error&& of_kind(ErrorKind k) &&;

  // One line: "ctx: ctx2: device "v/c=d": file:line:col: field: message".
  std::string to_string() const;
  // "file:line:col: field: message" without context or device (validate output).
  std::string located() const;
};

// Error from errno, naming what was attempted: "open "/x": No such file or directory"
// (kind io).
Error system_error(std::string_view what, int err);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error& error() & { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  // User-provided on purpose: with `= default`, `return {};` value-initializes
  // and so zeroes the whole std::optional<Error> (184 bytes, a rep stos) on
  // every success; this only marks it empty.
  Result() {}                                    // NOLINT(modernize-use-equals-default)
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *e_; }
  Error& error() & { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace cdi

// Returns the error of a failed Status/Result from the enclosing function.
#define CDI_TRY(expr)                                 \
  do {                                                \
    if (auto cdi_try_r_ = (expr); !cdi_try_r_.ok()) { \
      return std::move(cdi_try_r_).error();           \
    }                                                 \
  } while (0)
