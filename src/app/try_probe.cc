#include "app/try_probe.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>

#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/text.h"

namespace cdi {

namespace {

// --- mountinfo ---

std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool has_option(std::string_view options, std::string_view wanted) {
  for (auto o : split(options, ',')) {
    if (o == wanted) return true;
  }
  return false;
}

// --- probing ---

char type_letter(mode_t mode) {
  if (S_ISCHR(mode)) return 'c';
  if (S_ISBLK(mode)) return 'b';
  if (S_ISFIFO(mode)) return 'p';
  return '-';
}

int attempt_open(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

int attempt_mknod(const NodeSeen& node, const std::string& scratch_dir, size_t index) {
  std::string twin = path_join(scratch_dir, "mknod-" + std::to_string(index));
  ::unlink(twin.c_str());
  mode_t kind = node.type == 'b' ? S_IFBLK : S_IFCHR;
  dev_t dev = makedev(static_cast<unsigned>(node.major), static_cast<unsigned>(node.minor));
  if (::mknod(twin.c_str(), kind | 0600, dev) != 0) return errno;
  ::unlink(twin.c_str());
  return 0;
}

NodeSeen look_at_node(const ProbeRequest::Node& want, const std::string& scratch_dir, size_t index) {
  NodeSeen seen;
  seen.path = want.path;
  struct stat st {};
  if (::lstat(want.path.c_str(), &st) != 0) {
    seen.err = errno;
    return seen;
  }
  seen.type = type_letter(st.st_mode);
  seen.major = major(st.st_rdev);
  seen.minor = minor(st.st_rdev);
  seen.mode = st.st_mode & 07777;
  seen.uid = st.st_uid;
  seen.gid = st.st_gid;
  if (seen.type != 'c' && seen.type != 'b') return seen;
  for (char a : want.accesses) {
    int err = a == 'r'   ? attempt_open(want.path, O_RDONLY)
              : a == 'w' ? attempt_open(want.path, O_WRONLY)
                         : attempt_mknod(seen, scratch_dir, index);
    seen.accesses.push_back({a, err});
  }
  return seen;
}

MountSeen look_at_mount(const std::string& destination, const std::vector<MountInfoEntry>& mounts) {
  MountSeen seen;
  seen.destination = destination;
  struct stat st {};
  if (::stat(destination.c_str(), &st) != 0) {
    seen.err = errno;
    return seen;
  }
  seen.dev = st.st_dev;
  seen.ino = st.st_ino;
  // The destination as the kernel names it (a symbolic link on the way is resolved).
  char buf[PATH_MAX];
  std::string resolved = ::realpath(destination.c_str(), buf) ? std::string(buf) : destination;
  for (const auto& m : mounts) {  // the last mount on a point is the one that shows
    if (m.mount_point != destination && m.mount_point != resolved) continue;
    seen.mounted = true;
    seen.fstype = m.fstype;
    seen.read_only = m.read_only;
  }
  return seen;
}

// --- JSON ---

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void put(Writer& w, std::string_view key, int64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(value);
}
void put_uint(Writer& w, std::string_view key, uint64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Uint64(value);
}
void put_bool(Writer& w, std::string_view key, bool value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Bool(value);
}

Result<rapidjson::Document> parse_object(std::string_view json, std::string_view what) {
  if (find_out_of_range_exponent(json)) return Error(std::string(what) + ": not a JSON object");
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Error(std::string(what) + ": not a JSON object");
  return doc;
}

// Typed member reads that treat a missing or mistyped member as its zero value:
// these files are written by cdi-hook itself a moment earlier.
std::string str(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                     : std::string();
}
int64_t num(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}
uint64_t unum(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}
bool flag(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
const rapidjson::Value& array(const rapidjson::Value& o, const char* key) {
  static const rapidjson::Value empty(rapidjson::kArrayType);
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsArray() ? it->value : empty;
}
char letter(const std::string& s) { return s.empty() ? '\0' : s[0]; }

void save_record(const std::string& path, const HookRecord& record) {
  AtomicWriteOptions quick;
  quick.durable = false;  // read a moment later on the same machine
  (void)write_file_atomic(path, hook_record_json(record), quick);
}

}  // namespace

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  for (auto line : split(text, '\n')) {
    auto f = fields_of(line);
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 2 >= f.size()) continue;
    MountInfoEntry e;
    e.root = unescape_octal(f[3]);
    e.mount_point = unescape_octal(f[4]);
    e.read_only = has_option(f[5], "ro");
    e.fstype = std::string(f[dash + 1]);
    e.source = unescape_octal(f[dash + 2]);
    out.push_back(std::move(e));
  }
  return out;
}

ProbeReport run_probe(const ProbeRequest& request, const std::vector<std::string>& environ,
                      const std::string& mountinfo, const std::string& scratch_dir) {
  ProbeReport report;
  for (size_t i = 0; i < request.nodes.size(); ++i) {
    report.nodes.push_back(look_at_node(request.nodes[i], scratch_dir, i));
  }
  auto mounts = parse_mountinfo(mountinfo);
  for (const auto& d : request.mounts) report.mounts.push_back(look_at_mount(d, mounts));
  report.environ = environ;
  return report;
}

std::string probe_request_json(const ProbeRequest& request) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("nodes");
  w.StartArray();
  for (const auto& n : request.nodes) {
    w.StartObject();
    put(w, "path", n.path);
    put(w, "accesses", n.accesses);
    w.EndObject();
  }
  w.EndArray();
  w.Key("mounts");
  w.StartArray();
  for (const auto& m : request.mounts) w.String(m.c_str(), static_cast<rapidjson::SizeType>(m.size()));
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ProbeRequest> parse_probe_request(std::string_view json) {
  auto doc = parse_object(json, "probe request");
  if (!doc.ok()) return std::move(doc).error();
  ProbeRequest r;
  for (const auto& n : array(*doc, "nodes").GetArray()) {
    if (n.IsObject()) r.nodes.push_back({str(n, "path"), str(n, "accesses")});
  }
  for (const auto& m : array(*doc, "mounts").GetArray()) {
    if (m.IsString()) r.mounts.emplace_back(m.GetString(), m.GetStringLength());
  }
  return r;
}

std::string probe_report_json(const ProbeReport& report) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("nodes");
  w.StartArray();
  for (const auto& n : report.nodes) {
    w.StartObject();
    put(w, "path", n.path);
    put(w, "errno", n.err);
    put(w, "type", std::string(n.type ? 1 : 0, n.type));
    put(w, "major", n.major);
    put(w, "minor", n.minor);
    put(w, "mode", n.mode);
    put(w, "uid", n.uid);
    put(w, "gid", n.gid);
    w.Key("accesses");
    w.StartArray();
    for (const auto& a : n.accesses) {
      w.StartObject();
      put(w, "access", std::string(1, a.access));
      put(w, "errno", a.err);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("mounts");
  w.StartArray();
  for (const auto& m : report.mounts) {
    w.StartObject();
    put(w, "destination", m.destination);
    put(w, "errno", m.err);
    put_bool(w, "mounted", m.mounted);
    put(w, "fstype", m.fstype);
    put_bool(w, "readOnly", m.read_only);
    put_uint(w, "dev", m.dev);
    put_uint(w, "ino", m.ino);
    w.EndObject();
  }
  w.EndArray();
  w.Key("environ");
  w.StartArray();
  for (const auto& e : report.environ) w.String(e.data(), static_cast<rapidjson::SizeType>(e.size()));
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<ProbeReport> parse_probe_report(std::string_view json) {
  auto doc = parse_object(json, "probe report");
  if (!doc.ok()) return std::move(doc).error();
  ProbeReport r;
  for (const auto& n : array(*doc, "nodes").GetArray()) {
    if (!n.IsObject()) continue;
    NodeSeen s;
    s.path = str(n, "path");
    s.err = static_cast<int>(num(n, "errno"));
    s.type = letter(str(n, "type"));
    s.major = num(n, "major");
    s.minor = num(n, "minor");
    s.mode = static_cast<uint32_t>(num(n, "mode"));
    s.uid = static_cast<uint32_t>(num(n, "uid"));
    s.gid = static_cast<uint32_t>(num(n, "gid"));
    for (const auto& a : array(n, "accesses").GetArray()) {
      if (a.IsObject()) s.accesses.push_back({letter(str(a, "access")), static_cast<int>(num(a, "errno"))});
    }
    r.nodes.push_back(std::move(s));
  }
  for (const auto& m : array(*doc, "mounts").GetArray()) {
    if (!m.IsObject()) continue;
    MountSeen s;
    s.destination = str(m, "destination");
    s.err = static_cast<int>(num(m, "errno"));
    s.mounted = flag(m, "mounted");
    s.fstype = str(m, "fstype");
    s.read_only = flag(m, "readOnly");
    s.dev = unum(m, "dev");
    s.ino = unum(m, "ino");
    r.mounts.push_back(std::move(s));
  }
  for (const auto& e : array(*doc, "environ").GetArray()) {
    if (e.IsString()) r.environ.emplace_back(e.GetString(), e.GetStringLength());
  }
  return r;
}

std::string hook_record_json(const HookRecord& record) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  put_bool(w, "started", record.started);
  put_bool(w, "finished", record.finished);
  put(w, "exitCode", record.exit_code);
  put(w, "signal", record.signal);
  put(w, "error", record.error);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<HookRecord> parse_hook_record(std::string_view json) {
  auto doc = parse_object(json, "hook record");
  if (!doc.ok()) return std::move(doc).error();
  HookRecord r;
  r.started = flag(*doc, "started");
  r.finished = flag(*doc, "finished");
  r.exit_code = static_cast<int>(num(*doc, "exitCode"));
  r.signal = static_cast<int>(num(*doc, "signal"));
  r.error = str(*doc, "error");
  return r;
}

int run_recorded_hook(const std::string& record_path, const std::string& path, const std::vector<std::string>& argv) {
  HookRecord record;
  record.started = true;
  save_record(record_path, record);
  // A pipe that closes on a successful exec and carries errno when exec fails.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 127;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    record.error = system_error("fork", errno).to_string();
    save_record(record_path, record);
    return 127;
  }
  if (pid == 0) {
    ::close(fds[0]);
    // The hook dies with the recorder (the runtime kills the recorder on its timeout).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    if (args.empty()) args.push_back(const_cast<char*>(path.c_str()));
    args.push_back(nullptr);
    ::execv(path.c_str(), args.data());
    int err = errno;
    (void)!::write(fds[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(fds[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(fds[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int pass_on = 0;
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    record.error = system_error("exec " + path, exec_errno).to_string();
    pass_on = 127;
  } else if (WIFSIGNALED(status)) {
    record.finished = true;
    record.signal = WTERMSIG(status);
    pass_on = 128 + record.signal;
  } else {
    record.finished = true;
    record.exit_code = WEXITSTATUS(status);
    pass_on = record.exit_code;
  }
  save_record(record_path, record);
  return pass_on;
}

}  // namespace cdi
