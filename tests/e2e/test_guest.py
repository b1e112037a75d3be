"""Host-to-guest translation: `inject --guest-map`, `hook --guest-map`, the `guest` subcommands, and the
guest map's JSON Schema agreeing with cdi-hook's parser (Debian's python3-jsonschema)."""

import copy
import json
import os
import stat
import unittest

import cdihook as h

SCHEMA = os.path.join(h.REPO_ROOT, "schemas", "guest-map.schema.json")
EXAMPLE = os.path.join(h.REPO_ROOT, "examples", "guest-map.json")
KIND = "guest.e2e.example/dev"

HOST_NUMBERS = (240, 1)    # the host node the spec names
GUEST_NUMBERS = (241, 17)  # the node the guest has for it


def position_of(text, needle):
    """"line:column" (1-based) of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return "%d:%d" % (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def fake_sysfs(root):
    """A guest sysfs: a bridge in root-bus slot 2 with pci_bus, a bridge in slot 3 without it, a SCSI disk."""
    bus = os.path.join(root, "devices", "pci0000:00")
    os.makedirs(os.path.join(bus, "0000:00:02.0", "pci_bus", "0000:01"))
    os.makedirs(os.path.join(bus, "0000:00:02.0", "0000:01:03.0"))
    os.makedirs(os.path.join(bus, "0000:00:03.0", "0000:02:00.0"))
    os.makedirs(os.path.join(bus, "0000:00:03.0", "0000:02:00.1"))
    os.makedirs(os.path.join(bus, "0000:00:05.0"))
    os.makedirs(os.path.join(root, "bus", "scsi", "devices", "0:0:0:2", "block", "sdc"))
    return root


class GuestTestCase(h.TestCase):
    def setUp(self):
        super().setUp()
        self.host_node = h.mknod_char(self.path("host", "fake0"), *HOST_NUMBERS)
        self.guest_node = h.mknod_char(self.path("guest", "fake0"), *GUEST_NUMBERS)
        self.write_spec("dev.yaml", h.spec(KIND, {"fake": {
            "deviceNodes": [{"path": "/dev/fake0", "hostPath": self.host_node}],
            "env": ["FAKE=1"]}}))
        self.sysfs = fake_sysfs(self.path("sys"))

    def write_map(self, content, name="map.json"):
        return h.write_file(self.path(name), content if isinstance(content, str) else json.dumps(content, indent=1))

    def config_file(self, annotations=None, env=None, name="config.json"):
        if annotations is None:
            annotations = {"cdi.k8s.io/e2e": KIND + "=fake"}
        return h.write_file(self.path(name), h.oci_config(annotations, env=env))

    def guest_args(self, map_path):
        return ["--guest-map", map_path, "--sysfs-root", self.sysfs]


class InjectGuestMapTest(GuestTestCase):
    def test_device_gets_guest_numbers_and_its_rule_follows(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node}]})
        r = self.inject(self.config_file(), extra=self.guest_args(m))
        self.assertOk(r)
        out = r.json()
        dev = h.linux_device(out, "/dev/fake0")
        self.assertEqual((dev["type"], dev["major"], dev["minor"]), ("c",) + GUEST_NUMBERS)
        rules = h.cgroup_rules(out)
        self.assertIn({"allow": True, "type": "c", "major": GUEST_NUMBERS[0], "minor": GUEST_NUMBERS[1],
                       "access": "rwm"}, rules)
        self.assertFalse([x for x in rules if (x.get("major"), x.get("minor")) == HOST_NUMBERS], rules)
        self.assertEqual(h.env_map(out)["FAKE"], "1")

    def test_by_host_numbers_with_given_guest_numbers_and_final_path(self):
        m = self.write_map({"devices": [{"hostType": "c", "hostMajor": HOST_NUMBERS[0], "hostMinor": HOST_NUMBERS[1],
                                         "guestType": "c", "guestMajor": 236, "guestMinor": 0,
                                         "finalPath": "/dev/accel/accel0"}]})
        r = self.inject(self.config_file(), extra=self.guest_args(m))
        self.assertOk(r)
        out = r.json()
        self.assertIsNone(h.linux_device(out, "/dev/fake0"))
        dev = h.linux_device(out, "/dev/accel/accel0")
        self.assertEqual((dev["major"], dev["minor"]), (236, 0))

    def test_pci_env_and_info(self):
        info = json.dumps({"0000:1a:01.0": {"generic": {"deviceID": "0000:1a:01.0"}},
                           "0000:1b:02.0": {"generic": {"deviceID": "0000:1b:02.0"}}})
        env = ["PATH=/bin", "PCIDEVICE_INTEL_COM_SRIOV=0000:1a:01.0,0000:1B:02.0",
               "PCIDEVICE_INTEL_COM_SRIOV_INFO=" + info, "PCIDEVICE_MLX=mlx5_core.sf.3", "OTHER=0000:1a:01.0"]
        m = self.write_map({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0"},
                                    {"host": "0000:1b:02.0", "guestPciPath": "02/03"},
                                    {"host": "0000:1c:00.0", "guestPciPath": "03/00.1"}]})
        r = self.inject(self.config_file(env=env), extra=self.guest_args(m))
        self.assertOk(r)
        got = h.env_map(r.json())
        self.assertEqual(got["PCIDEVICE_INTEL_COM_SRIOV"], "0000:01:01.0,0000:01:03.0")
        self.assertEqual(json.loads(got["PCIDEVICE_INTEL_COM_SRIOV_INFO"]),
                         {"0000:01:01.0": {"generic": {"deviceID": "0000:01:01.0"}},
                          "0000:01:03.0": {"generic": {"deviceID": "0000:01:03.0"}}})
        self.assertEqual(got["PCIDEVICE_MLX"], "mlx5_core.sf.3")
        self.assertEqual(got["OTHER"], "0000:1a:01.0")

    def test_translation_runs_without_devices(self):
        m = self.write_map({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0"}]})
        path = self.config_file(annotations={}, env=["PCIDEVICE_X=0000:1a:01.0"])
        r = self.inject(path, extra=self.guest_args(m) + ["--in-place"])
        self.assertOk(r, stdout_empty=True)
        self.assertEqual(h.env_map(h.load_json(path))["PCIDEVICE_X"], "0000:01:01.0")

    def test_explain_names_the_map(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node}]})
        r = self.inject(self.config_file(), extra=self.guest_args(m) + ["--explain"])
        self.assertOk(r)
        text = r.stdout.decode()
        self.assertIn("/dev/fake0 c %d:%d -> c %d:%d" % (HOST_NUMBERS + GUEST_NUMBERS), text)
        self.assertIn("<- guest map " + m, text)

    def test_the_example_map_parses_and_names_its_first_missing_node(self):
        # examples/guest-map.json speaks of a guest's /dev/vfio/3: here it does not exist.
        r = self.inject(self.config_file(), extra=self.guest_args(EXAMPLE))
        at = position_of(h.read_bytes(EXAMPLE).decode(), '"/dev/vfio/3"')
        self.assertFailure(r, "guest map: %s:%s: devices[0].guestPath: guest node \"/dev/vfio/3\"" % (EXAMPLE, at))


class BadInputTest(GuestTestCase):
    """exit 1, one line naming the entry, nothing written."""

    def assert_in_place_fails(self, map_content, *needles, env=None, annotations=None):
        m = self.write_map(map_content) if not isinstance(map_content, str) or not os.path.isabs(map_content) \
            else map_content
        path = self.config_file(env=env, annotations=annotations)
        before, before_st = h.read_bytes(path), os.stat(path)
        r = self.inject(path, extra=self.guest_args(m) + ["--in-place"])
        line = self.assertFailure(r, *needles)
        self.assertFileUntouched(path, before, before_st)
        return line

    def test_map_that_does_not_parse(self):
        self.assert_in_place_fails('{"devices": [\n  {"containerPath": "/dev/fake0",}]}', "map.json:2:34:",
                                   "invalid JSON")

    def test_map_that_fails_its_schema(self):
        text = '{"devices": [{"containerPath": "/dev/fake0", "guestpath": "/dev/x"}]}'
        self.assert_in_place_fails(text, "map.json:%s: devices[0]: unknown field \"guestpath\" (did you mean "
                                   "\"guestPath\"?" % position_of(text, '"guestpath"'))
        self.assert_in_place_fails({"devices": [{"containerPath": "/dev/fake0"}]}, "devices[0]: give guestPath")

    def test_missing_map_file(self):
        self.assert_in_place_fails(self.path("nope.json"), "guest map", "nope.json", "No such file")

    def test_unknown_device_path(self):
        self.assert_in_place_fails({"devices": [{"containerPath": "/dev/fake1", "guestPath": self.guest_node}]},
                                   "devices[0].containerPath: container path \"/dev/fake1\" is not in the OCI "
                                   "config's linux.devices")

    def test_guest_path_missing_or_not_a_node(self):
        self.assert_in_place_fails({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.path("nope")}]},
                                   "devices[0].guestPath: guest node", "No such file")
        regular = h.write_file(self.path("regular"), "x")
        self.assert_in_place_fails({"devices": [{"containerPath": "/dev/fake0", "guestPath": regular}]},
                                   "is not a device node (it is a regular file)")

    def test_unparsable_pci_address(self):
        self.assert_in_place_fails({"pci": [{"host": "1a:01.0", "guest": "0000:01:01.0"}]},
                                   "pci[0].host: invalid PCI address \"1a:01.0\"")

    def test_pci_path_that_does_not_resolve(self):
        line = self.assert_in_place_fails({"pci": [{"host": "0000:1a:01.0", "guestPciPath": "02/07"}]},
                                          "pci[0].guestPciPath: PCI path \"02.0/07.0\" does not resolve",
                                          "no device 0000:01:07.0")
        self.assertIn(self.sysfs, line)

    def test_pci_path_with_several_buses(self):
        os.makedirs(os.path.join(self.sysfs, "devices", "pci0000:00", "0000:00:03.0", "0000:04:00.0"))
        self.assert_in_place_fails({"pci": [{"host": "0000:1a:01.0", "guestPciPath": "03/00"}]},
                                   "several downstream buses", "bridge 0000:00:03.0", "0000:02, 0000:04")

    def test_unmapped_and_malformed_env_addresses(self):
        m = {"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0"}]}
        self.assert_in_place_fails(m, "process.env[1]: PCIDEVICE_X: host PCI address \"0000:1a:02.0\" has no guest",
                                   env=["PATH=/bin", "PCIDEVICE_X=0000:1a:01.0,0000:1a:02.0"])
        self.assert_in_place_fails(m, "PCIDEVICE_X: invalid PCI address \"0000:1a:01\"",
                                   env=["PCIDEVICE_X=0000:1a:01"])
        self.assert_in_place_fails(m, "process.env[0]: malformed env entry \"NOEQUALS\"", env=["NOEQUALS"])

    def test_conflicting_pci_entries(self):
        self.assert_in_place_fails({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0"},
                                            {"host": "0000:1a:01.0", "guestPciPath": "02/03"}]},
                                   "conflicting guest address for host device 0000:1a:01.0 (0000:01:01.0 versus "
                                   "0000:01:03.0")

    def test_two_updates_for_one_device(self):
        self.assert_in_place_fails({"devices": [
            {"containerPath": "/dev/fake0", "guestPath": self.guest_node},
            {"hostType": "c", "hostMajor": HOST_NUMBERS[0], "hostMinor": HOST_NUMBERS[1], "guestType": "c",
             "guestMajor": 1, "guestMinor": 1}]},
            "devices[1]: conflicting device updates for \"/dev/fake0\" (devices[0] and devices[1])")

    def test_injection_error_still_leaves_the_file(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node}]})
        path = self.config_file(annotations={"cdi.k8s.io/e2e": KIND + "=missing"})
        before, before_st = h.read_bytes(path), os.stat(path)
        r = self.inject(path, extra=self.guest_args(m) + ["--in-place"])
        self.assertFailure(r, "missing")
        self.assertFileUntouched(path, before, before_st)


class HookGuestMapTest(GuestTestCase):
    def test_state_mode_rewrites_the_bundle(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node,
                                         "finalPath": "/dev/guest0"}]})
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": KIND + "=fake"}))
        r = self.hook(h.oci_state(bundle), extra=self.guest_args(m))
        self.assertOk(r, stdout_empty=True)
        config = h.load_json(os.path.join(bundle, "config.json"))
        dev = h.linux_device(config, "/dev/guest0")
        self.assertEqual((dev["major"], dev["minor"]), GUEST_NUMBERS)
        self.assertOnlyConfig(bundle)

    def test_state_mode_error_leaves_the_bundle(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/other", "guestPath": self.guest_node}]})
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": KIND + "=fake"}))
        path = os.path.join(bundle, "config.json")
        before, before_st = h.read_bytes(path), os.stat(path)
        r = self.hook(h.oci_state(bundle), extra=self.guest_args(m))
        self.assertFailure(r, "devices[0].containerPath: container path \"/dev/other\"")
        self.assertFileUntouched(path, before, before_st)
        self.assertOnlyConfig(bundle)

    def test_precreate_mode_and_no_devices(self):
        m = self.write_map({"pci": [{"host": "0000:1a:01.0", "guestPciPath": "05"}]})
        r = self.hook(h.oci_config(env=["PCIDEVICE_X=0000:1a:01.0"]), extra=self.guest_args(m))
        self.assertOk(r)
        self.assertEqual(h.env_map(r.json())["PCIDEVICE_X"], "0000:00:05.0")

    def test_kata_pod_sandbox_is_left_alone(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/other", "guestPath": self.guest_node}]})
        config = h.oci_config({h.KATA_TYPE: "pod_sandbox", "cdi.k8s.io/e2e": KIND + "=fake"})
        r = self.hook(config, extra=self.guest_args(m))
        self.assertOk(r)
        self.assertEqual(r.json(), config)

    def test_bad_map_is_one_line_before_anything(self):
        m = self.write_map("[]")
        r = self.hook(h.oci_config(), extra=self.guest_args(m))
        self.assertFailure(r, "guest map: %s:1:1: a guest map must be an object, got an array" % m)


class GuestCommandsTest(GuestTestCase):
    def guest(self, *args, stdin=None):
        return h.run(["guest"] + list(args), stdin=stdin)

    def test_translate_reads_stdin_and_writes_in_place(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node}]})
        config = h.oci_config()
        config["linux"]["devices"] = [{"path": "/dev/fake0", "type": "c", "major": 240, "minor": 1}]
        config["linux"]["resources"]["devices"].append({"allow": True, "type": "c", "major": 240, "minor": 1,
                                                        "access": "rw"})
        r = self.guest("translate", "--config", "-", "--guest-map", m, stdin=config)
        self.assertOk(r)
        out = r.json()
        expected = copy.deepcopy(config)
        expected["linux"]["devices"][0].update(major=GUEST_NUMBERS[0], minor=GUEST_NUMBERS[1])
        expected["linux"]["resources"]["devices"][1].update(major=GUEST_NUMBERS[0], minor=GUEST_NUMBERS[1])
        self.assertEqual(out, expected)
        path = h.write_file(self.path("c.json"), config)
        r = self.guest("translate", "--config", path, "--guest-map", m, "--in-place")
        self.assertOk(r, stdout_empty=True)
        self.assertEqual(h.load_json(path), expected)

    def test_translate_does_not_inject(self):
        m = self.write_map({"devices": [{"containerPath": "/dev/fake0", "guestPath": self.guest_node}]})
        r = self.guest("translate", "--config", self.config_file(), "--guest-map", m)
        self.assertFailure(r, "container path \"/dev/fake0\" is not in")

    def test_check_map(self):
        r = self.guest("check-map", EXAMPLE)
        self.assertOk(r)
        self.assertEqual(r.stdout.decode(), "%s: 3 devices, 2 PCI entries\n" % EXAMPLE)
        bad = self.write_map('{"pci": [{"host": "0000:1a:01.0"}]}')
        self.assertFailure(self.guest("check-map", bad), "%s:1:10: pci[0]: give guest or guestPciPath" % bad)

    def test_host_path(self):
        sysfs = self.path("hostsys")
        h.write_file(os.path.join(sysfs, "devices", "virtual", "nvidia0", "uevent"),
                     "MAJOR=195\nMINOR=0\nDEVNAME=nvidia0\n")
        os.makedirs(os.path.join(sysfs, "dev", "char"))
        os.symlink("../../devices/virtual/nvidia0", os.path.join(sysfs, "dev", "char", "195:0"))
        r = self.guest("host-path", "c", "195", "0", "--sysfs-root", sysfs)
        self.assertOk(r)
        self.assertEqual(r.stdout, b"/dev/nvidia0\n")
        self.assertFailure(self.guest("host-path", "c", "195", "1", "--sysfs-root", sysfs),
                           "device c 195:1 has no entry")
        r = self.guest("host-path", "c", "10", "229", "--sysfs-root", sysfs, "--fallback", "/dev/fuse")
        self.assertOk(r)
        self.assertEqual(r.stdout, b"/dev/fuse\n")
        # The real /sys: /dev/null is c 1:3 everywhere.
        r = self.guest("host-path", "c", "1", "3")
        self.assertOk(r)
        self.assertEqual(r.stdout, b"/dev/null\n")

    def test_host_path_vhost_user_store(self):
        store = self.path("vhost")
        os.makedirs(os.path.join(store, "block", "devices"))
        os.mknod(os.path.join(store, "block", "devices", "vhostblk0"), 0o600 | stat.S_IFBLK, os.makedev(241, 0))
        h.write_file(os.path.join(store, "block", "sockets", "vhostblk0"), "")
        r = self.guest("host-path", "b", "241", "0", "--vhost-user-store", store, "--sysfs-root", self.path("x"))
        self.assertOk(r)
        self.assertEqual(r.stdout.decode(), os.path.join(store, "block", "sockets", "vhostblk0") + "\n")
        self.assertFailure(self.guest("host-path", "b", "242", "5", "--vhost-user-store", store),
                           "no vhost-user device node b 242:5")

    def test_index_names(self):
        for index, name in [("0", "vda"), ("25", "vdz"), ("26", "vdaa"), ("702", "vdaaa"), ("65535", "vdcrxp")]:
            r = self.guest("virtio-blk-name", index)
            self.assertOk(r)
            self.assertEqual(r.stdout.decode(), name + "\n")
        self.assertFailure(self.guest("virtio-blk-name", "65536"), "out of range (0 to 65535)")
        for index, address in [("0", "0:0"), ("257", "1:1"), ("65534", "255:254")]:
            r = self.guest("scsi-address", index)
            self.assertOk(r)
            self.assertEqual(r.stdout.decode(), address + "\n")
        self.assertFailure(self.guest("scsi-address", "65535"), "at most 65535 disks")

    def test_block_device_of_a_real_path(self):
        r = self.guest("block-device", self.tmp, "--output", "json")
        self.assertOk(r)
        got = r.json()
        st = os.stat(self.tmp)
        self.assertEqual((got["major"], got["minor"]), (os.major(st.st_dev), os.minor(st.st_dev)))
        self.assertEqual(os.stat(got["mountPoint"]).st_dev, st.st_dev)
        if got["mountPoint"] != "/":
            self.assertNotEqual(os.stat(os.path.dirname(got["mountPoint"])).st_dev, st.st_dev)
        self.assertEqual(got["path"], os.path.realpath(self.tmp))
        r = self.guest("block-device", self.tmp)
        self.assertOk(r)
        self.assertIn("MAJOR=%d\n" % os.major(st.st_dev), r.stdout.decode())

    def test_is_device_mapper(self):
        sysfs = self.path("dmsys")
        os.makedirs(os.path.join(sysfs, "dev", "block", "253:0", "dm"))
        os.makedirs(os.path.join(sysfs, "dev", "block", "8:0"))
        self.assertEqual(self.guest("is-device-mapper", "253:0", "--sysfs-root", sysfs).stdout, b"true\n")
        self.assertEqual(self.guest("is-device-mapper", "8:0", "--sysfs-root", sysfs).stdout, b"false\n")
        node = self.path("blk")
        os.mknod(node, 0o600 | stat.S_IFBLK, os.makedev(253, 0))
        self.assertEqual(self.guest("is-device-mapper", node, "--sysfs-root", sysfs).stdout, b"true\n")
        self.assertFailure(self.guest("is-device-mapper", "9:9", "--sysfs-root", sysfs), "no block device 9:9")
        self.assertFailure(self.guest("is-device-mapper", self.host_node), "is not a block device")

    def test_help_for_every_subcommand(self):
        for sub in ("translate", "check-map", "host-path", "virtio-blk-name", "scsi-address", "block-device",
                    "is-device-mapper"):
            r = self.guest(sub, "--help")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("Usage:", r.stdout.decode(), r)
        r = h.run(["guest"])
        self.assertUsage(r)


class SchemaAgreementTest(GuestTestCase):
    """schemas/guest-map.schema.json and `cdi-hook guest check-map` give the same verdict."""

    GOOD = [
        {},
        {"devices": [], "pci": []},
        {"devices": [{"containerPath": "/dev/vdb", "guestVirtioBlkIndex": 65535}]},
        {"devices": [{"containerPath": "/dev/sdb", "guestScsiIndex": 65534, "finalPath": "/dev/disk0"}]},
        {"devices": [{"hostType": "b", "hostMajor": 8.0, "hostMinor": 16, "guestType": "b", "guestMajor": 4095,
                      "guestMinor": 1048575}]},
        {"pci": [{"host": "10000:1A:1f.7", "guest": "0000:00:00.0"}, {"host": "0000:00:01.0", "guestPciPath": "2/1f.7"}]},
    ]
    BAD = [
        [],
        {"device": []},
        {"devices": {}},
        {"devices": None},
        {"devices": [3]},
        {"devices": [{"containerPath": "dev/x", "guestPath": "/y"}]},
        {"devices": [{"containerPath": "/x", "guestPath": None}]},
        {"devices": [{"containerPath": "/x", "guestpath": "/y"}]},
        {"devices": [{"hostType": "u", "hostMajor": 1, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": 4096, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": -1, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": 1.5, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": True, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": "1", "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"hostType": "c", "hostMajor": 1, "guestPath": "/y"}]},
        {"devices": [{"containerPath": "/x", "hostType": "c", "hostMajor": 1, "hostMinor": 3, "guestPath": "/y"}]},
        {"devices": [{"guestPath": "/y"}]},
        {"devices": [{"containerPath": "/x"}]},
        {"devices": [{"containerPath": "/x", "guestPath": "/y", "guestScsiIndex": 1}]},
        {"devices": [{"containerPath": "/x", "guestType": "b", "guestMinor": 1}]},
        {"devices": [{"containerPath": "/x", "guestVirtioBlkIndex": 65536}]},
        {"devices": [{"containerPath": "/x", "guestScsiIndex": 65535}]},
        {"devices": [{"containerPath": "/x", "guestPath": "/y", "finalPath": ""}]},
        {"pci": "0000:1a:01.0"},
        {"pci": [{"guest": "0000:01:01.0"}]},
        {"pci": [{"host": "1a:01.0", "guest": "0000:01:01.0"}]},
        {"pci": [{"host": "0000:1a:01.0\n", "guest": "0000:01:01.0"}]},
        {"pci": [{"host": "0000:1a:20.0", "guest": "0000:01:01.0"}]},
        {"pci": [{"host": "0000:1a:01.8", "guest": "0000:01:01.0"}]},
        {"pci": [{"host": "000:1a:01.0", "guest": "0000:01:01.0"}]},
        {"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0", "guestPciPath": "02"}]},
        {"pci": [{"host": "0000:1a:01.0"}]},
        {"pci": [{"host": "0000:1a:01.0", "guestPciPath": "02/20"}]},
        {"pci": [{"host": "0000:1a:01.0", "guestPciPath": "02//03"}]},
        {"pci": [{"host": "0000:1a:01.0", "guestPciPath": "02/03\n"}]},
        {"pci": [{"host": "0000:1a:01.0", "guestPciPath": ""}]},
        {"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0", "bus": 1}]},
    ]

    def setUp(self):
        super().setUp()
        try:
            import jsonschema  # Debian: python3-jsonschema
        except ImportError:
            self.fail("python3-jsonschema is missing (scripts/install-deps.sh installs it)")
        schema = h.load_json(SCHEMA)
        jsonschema.Draft7Validator.check_schema(schema)
        self.validator = jsonschema.Draft7Validator(schema)

    def verdicts(self, document):
        m = self.write_map(json.dumps(document))
        r = h.run(["guest", "check-map", m])
        self.assertIn(r.rc, (0, 1), r)
        if r.rc == 1:
            self.assertEqual(len(r.stderr_lines), 1, r)
        return self.validator.is_valid(document), r.rc == 0, r

    def test_the_example_is_valid(self):
        document = h.load_json(EXAMPLE)
        self.validator.validate(document)
        self.assertOk(h.run(["guest", "check-map", EXAMPLE]))

    def test_good_maps(self):
        for document in self.GOOD:
            with self.subTest(map=document):
                schema_ok, parser_ok, r = self.verdicts(document)
                self.assertTrue(schema_ok, list(self.validator.iter_errors(document)))
                self.assertTrue(parser_ok, r)

    def test_bad_maps(self):
        for document in self.BAD:
            with self.subTest(map=document):
                schema_ok, parser_ok, r = self.verdicts(document)
                self.assertFalse(schema_ok, "the schema accepts it")
                self.assertFalse(parser_ok, r)


if __name__ == "__main__":
    unittest.main()
