// go-peer applies CDI devices to an OCI config with the reference Go library
// (Debian's packaged container-device-interface 0.5.2), so that tests/compat
// can compare its result with cdi-hook's on the same input.
//
// usage: go-peer -config FILE [-spec-dir DIR]... [-device NAME]...
//
// Without -device the config's cdi.k8s.io/ annotations name the devices. The
// edited config goes to stdout as JSON. Spec files the library could not use
// are listed on stderr as "spec-error: ..." lines; a failed injection prints
// "go-peer: ..." and exits 1; a usage error exits 2.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/container-orchestrated-devices/container-device-interface/pkg/cdi"
	oci "github.com/opencontainers/runtime-spec/specs-go"
)

// repeated collects every value of a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-peer: "+format+"\n", args...)
	os.Exit(code)
}

func readConfig(path string) *oci.Spec {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(1, "%v", err)
	}
	config := &oci.Spec{}
	if err := json.Unmarshal(data, config); err != nil {
		fail(1, "%s: %v", path, err)
	}
	return config
}

// reportSpecErrors lists, in a stable order, the spec files the cache skipped.
func reportSpecErrors(cache *cdi.Cache) {
	byFile := cache.GetErrors()
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		for _, err := range byFile[f] {
			fmt.Fprintf(os.Stderr, "spec-error: %s: %v\n", f, err)
		}
	}
}

func main() {
	var specDirs, devices repeated
	configPath := flag.String("config", "", "OCI config.json to edit")
	flag.Var(&specDirs, "spec-dir", "CDI spec dir, in increasing priority (repeatable)")
	flag.Var(&devices, "device", "qualified CDI device name (repeatable; default: the cdi.k8s.io/ annotations)")
	flag.Parse()
	if *configPath == "" || flag.NArg() != 0 || len(specDirs) == 0 {
		flag.Usage()
		os.Exit(2)
	}

	config := readConfig(*configPath)
	cache, err := cdi.NewCache(cdi.WithSpecDirs(specDirs...), cdi.WithAutoRefresh(false))
	if err != nil {
		fail(1, "cache: %v", err)
	}
	reportSpecErrors(cache)

	requested := []string(devices)
	if len(requested) == 0 {
		if _, requested, err = cdi.ParseAnnotations(config.Annotations); err != nil {
			fail(1, "annotations: %v", err)
		}
	}
	if _, err := cache.InjectDevices(config, requested...); err != nil {
		fail(1, "%v", err)
	}

	out, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		fail(1, "encode: %v", err)
	}
	os.Stdout.Write(append(out, '\n'))
}
