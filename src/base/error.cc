#include "base/error.h"

#include <cstring>

#include "base/text.h"

namespace cdi {

Error& Error::in_file(std::string path, int line_no, int col) & {
  file = std::move(path);
  if (line_no > 0) {
    line = line_no;
    column = col;
  }
  return *this;
}
Error&& Error::in_file(std::string path, int line_no, int col) && {
  return std::move(in_file(std::move(path), line_no, col));
}

Error& Error::at(int line_no, int col) & {
  line = line_no;
  column = col;
  return *this;
}
Error&& Error::at(int line_no, int col) && { return std::move(at(line_no, col)); }

Error& Error::at_field(std::string_view outer) & {
  if (outer.empty()) return *this;
  if (field.empty()) {
    field = outer;
  } else if (field.front() == '[') {
    field = std::string(outer) + field;
  } else {
    field = std::string(outer) + "." + field;
  }
  return *this;
}
Error&& Error::at_field(std::string_view outer) && { return std::move(at_field(outer)); }

Error& Error::for_device(std::string name) & {
  if (device.empty()) device = std::move(name);
  return *this;
}
Error&& Error::for_device(std::string name) && { return std::move(for_device(std::move(name))); }

Error& Error::with_context(std::string ctx) & {
  context.insert(context.begin(), std::move(ctx));
  return *this;
}
Error&& Error::with_context(std::string ctx) && { return std::move(with_context(std::move(ctx))); }

Error& Error::of_kind(ErrorKind k) & {
  kind = k;
  return *this;
}
Error&& Error::of_kind(ErrorKind k) && { return std::move(of_kind(k)); }

std::string Error::located() const {
  std::string out;
  if (!file.empty()) {
    out += quote_if_needed(file);
    if (line > 0) {
      out += ":" + std::to_string(line);
      if (column > 0) out += ":" + std::to_string(column);
    }
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

std::string Error::to_string() const {
  std::string out;
  for (const auto& c : context) out += c + ": ";
  // The device is named once: not again when a context already names it.
  std::string named = "device " + quote(device);
  bool in_context = false;
  for (const auto& c : context) in_context = in_context || c.find(quote(device)) != std::string::npos;
  if (!device.empty() && !in_context) out += named + ": ";
  out += located();
  return out;
}

Error system_error(std::string_view what, int err) {
  Error e(std::string(what) + ": " + std::strerror(err));
  e.sys_errno = err;
  e.kind = ErrorKind::io;
  return e;
}

}  // namespace cdi
