#!/usr/bin/env python3
"""Plays a runtime against cdi-hook-nri, without containerd: one pre-registered plugin, one CreateContainer.

    tests/nri/play_runtime.py [--plugin PATH] [--runtime NAME/VERSION] [--config TEXT] [--pod-annotation K=V]
                              [--handler NAME] ANNOTATION=VALUE...

Starts the plugin as a runtime starts /opt/nri/plugins/10-cdi-hook (fd 3, three variables, no stdio),
sends RegisterPlugin's reply, Configure (with --config as the conf.d text; runtime v2/2.2.1 by default),
Synchronize and one CreateContainer for a container with the given annotations, and prints the answer:
the adjustment in protobuf text form, or the error status. The plugin's log goes to stderr (its config
gets log-file = /dev/stderr of this process through a pipe). Uses the test harness (python3-protobuf).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as nh  # noqa: E402

CODES = {0: "OK", 2: "Unknown", 3: "InvalidArgument", 5: "NotFound", 9: "FailedPrecondition", 12: "Unimplemented",
         13: "Internal"}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--plugin", default=os.environ.get("CDI_HOOK_NRI_BIN", "build/release/src/nri/cdi-hook-nri"))
    p.add_argument("--runtime", default="v2/2.2.1", help="runtime_name/runtime_version sent in Configure")
    p.add_argument("--config", default="", help="the conf.d text (\\n for new lines)")
    p.add_argument("--pod-annotation", action="append", default=[], metavar="K=V")
    p.add_argument("--handler", default="", help="the pod's runtime handler")
    p.add_argument("annotations", nargs="*", metavar="K=V")
    a = p.parse_args()
    os.environ["CDI_HOOK_NRI_BIN"] = os.path.abspath(a.plugin)
    log = tempfile.NamedTemporaryFile(prefix="cdi-hook-nri-", suffix=".log", delete=False)
    log.close()
    name, _, version = a.runtime.partition("/")
    plugin = nh.PreRegistered(runtime_name=name, runtime_version=version)
    try:
        rt = plugin.runtime
        rt.register()
        config = a.config.replace("\\n", "\n") + "\nlog-file = %s\n" % log.name
        r = rt.configure(config)
        if r.code != nh.OK:
            print("Configure: %s: %s" % (CODES.get(r.code, r.code), r.message))
            return 1
        rt.synchronize()
        pair = lambda kv: tuple(kv.split("=", 1))  # noqa: E731
        pod = nh.pod(annotations=dict(map(pair, a.pod_annotation)), runtime_handler=a.handler)
        container = nh.container(annotations=dict(map(pair, a.annotations)))
        r = rt.create_container(pod, container)
        if r.code == nh.OK:
            print(str(r.parse(nh.api.CreateContainerResponse)).rstrip("\n"))
        else:
            print("CreateContainer: %s: %s" % (CODES.get(r.code, r.code), r.message))
        return 0 if r.code == nh.OK else 1
    finally:
        plugin.kill()
        with open(log.name) as f:
            sys.stderr.write(f.read())
        os.unlink(log.name)


if __name__ == "__main__":
    sys.exit(main())
