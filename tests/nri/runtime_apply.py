"""What a runtime does with a ContainerAdjustment, for comparing the plugin's answer with `cdi-hook inject`.

This follows NRI's own application of an adjustment to an OCI config (containerd and CRI-O both use it):
  - env: each key replaces the first entry of that key in place; keys not there are appended in order;
  - hooks: appended to their stage;
  - linux.devices: the entry with the same path is removed and the device appended, with an automatic
    cgroup rule allowing "rw" for a character device and "rwm" for a block device;
  - linux.resources.devices: explicit rules appended (applied from NRI v0.10 only: `explicit_rules`);
  - linux.netDevices and linux.intelRdt (from NRI v0.11 only);
  - mounts: the mount with the same destination is removed and the mount appended; then all mounts are
    sorted by the number of '/' in the cleaned destination, then by destination.
It also builds the NRI form of an OCI config (the container the runtime would describe to the plugin).
"""

import copy
import os

import harness as nh

STAGES = [("prestart", "prestart"), ("createRuntime", "create_runtime"), ("createContainer", "create_container"),
          ("startContainer", "start_container"), ("poststart", "poststart"), ("poststop", "poststop")]


def container_from_config(config, name="ctr", annotations=None):
    """The NRI Container a runtime would send for this OCI config."""
    c = nh.api.Container(id="ctr-id", pod_sandbox_id="pod-id", name=name)
    for k, v in (annotations if annotations is not None else config.get("annotations", {})).items():
        c.annotations[k] = v
    process = config.get("process", {})
    c.args.extend(process.get("args", []))
    c.env.extend(process.get("env", []))
    user = process.get("user")
    if user is not None:
        c.user.uid = user.get("uid", 0)
        c.user.gid = user.get("gid", 0)
        c.user.additional_gids.extend(user.get("additionalGids", []))
    for m in config.get("mounts", []):
        c.mounts.add(destination=m["destination"], type=m.get("type", ""), source=m.get("source", ""),
                     options=m.get("options", []))
    for oci, field in STAGES:
        for h in config.get("hooks", {}).get(oci, []):
            hook = getattr(c.hooks, field).add(path=h["path"], args=h.get("args", []), env=h.get("env", []))
            if "timeout" in h:
                hook.timeout.value = h["timeout"]
    linux = config.get("linux", {})
    for d in linux.get("devices", []):
        dev = c.linux.devices.add(path=d["path"], type=d["type"], major=d.get("major", 0), minor=d.get("minor", 0))
        if "fileMode" in d:
            dev.file_mode.value = d["fileMode"]
        if "uid" in d:
            dev.uid.value = d["uid"]
        if "gid" in d:
            dev.gid.value = d["gid"]
    for r in linux.get("resources", {}).get("devices", []):
        rule = c.linux.resources.devices.add(allow=r.get("allow", False), type=r.get("type", ""),
                                             access=r.get("access", ""))
        if "major" in r:
            rule.major.value = r["major"]
        if "minor" in r:
            rule.minor.value = r["minor"]
    return c


def _depth(destination):
    return os.path.normpath(destination).count("/")


def apply(config, adjust, explicit_rules=True, net_and_rdt=True):
    """The OCI config after the runtime applied `adjust` (a ContainerAdjustment) to `config`."""
    c = copy.deepcopy(config)
    process = c.setdefault("process", {})
    # env
    mod = {kv.key: kv.value for kv in adjust.env}
    if mod:
        out = []
        for e in process.get("env", []):
            k, sep, v = e.partition("=")
            if not sep:
                continue
            if k in mod:
                out.append("%s=%s" % (k, mod.pop(k)))
            else:
                out.append(e)
        for kv in adjust.env:
            if kv.key in mod:
                out.append("%s=%s" % (kv.key, kv.value))
        process["env"] = out
    # hooks
    for oci, field in STAGES:
        for h in getattr(adjust.hooks, field):
            hook = {"path": h.path}
            if h.args:
                hook["args"] = list(h.args)
            if h.env:
                hook["env"] = list(h.env)
            if h.HasField("timeout"):
                hook["timeout"] = h.timeout.value
            c.setdefault("hooks", {}).setdefault(oci, []).append(hook)
    linux = c.setdefault("linux", {})
    # devices, each with its automatic rule
    for d in adjust.linux.devices:
        devices = [x for x in linux.get("devices", []) if x["path"] != d.path]
        dev = {"path": d.path, "type": d.type, "major": d.major, "minor": d.minor}
        if d.HasField("file_mode"):
            dev["fileMode"] = d.file_mode.value
        if d.HasField("uid"):
            dev["uid"] = d.uid.value
        if d.HasField("gid"):
            dev["gid"] = d.gid.value
        devices.append(dev)
        linux["devices"] = devices
        rules = linux.setdefault("resources", {}).setdefault("devices", [])
        rules.append({"allow": True, "type": d.type, "major": d.major, "minor": d.minor,
                      "access": "rwm" if d.type == "b" else "rw"})
    if explicit_rules:
        for r in adjust.linux.resources.devices:
            rule = {"allow": r.allow, "type": r.type, "access": r.access}
            if r.HasField("major"):
                rule["major"] = r.major.value
            if r.HasField("minor"):
                rule["minor"] = r.minor.value
            linux.setdefault("resources", {}).setdefault("devices", []).append(rule)
    if net_and_rdt:
        for host, dev in adjust.linux.net_devices.items():
            linux.setdefault("netDevices", {})[host] = {"name": dev.name}
        if adjust.linux.HasField("rdt"):
            r = adjust.linux.rdt
            rdt = {}
            if r.HasField("clos_id"):
                rdt["closID"] = r.clos_id.value
            if r.HasField("schemata"):
                rdt["schemata"] = list(r.schemata.value)
            if r.HasField("enable_monitoring"):
                rdt["enableMonitoring"] = r.enable_monitoring.value
            linux["intelRdt"] = rdt
    # mounts
    if adjust.mounts:
        mounts = c.get("mounts", [])
        for m in adjust.mounts:
            mounts = [x for x in mounts if x["destination"] != m.destination]
            mount = {"destination": m.destination, "type": m.type, "source": m.source}
            if m.options:
                mount["options"] = list(m.options)
            mounts.append(mount)
        mounts.sort(key=lambda x: (_depth(x["destination"]), x["destination"]))
        c["mounts"] = mounts
    return c


def access_of(config, dtype, major, minor):
    """The access the config's cgroup rules leave a device: rules in order, each allow adds its letters and
    each deny removes them, for rules matching the device (type a or equal, numbers absent or equal)."""
    granted = set()
    for r in config.get("linux", {}).get("resources", {}).get("devices", []):
        t = r.get("type", "a") or "a"
        if t not in ("a", dtype):
            continue
        if r.get("major") not in (None, -1, major) or r.get("minor") not in (None, -1, minor):
            continue
        letters = set(r.get("access", "") or "rwm")
        granted = granted | letters if r.get("allow") else granted - letters
    return "".join(x for x in "rwm" if x in granted)
