// go-peer: the reference Go library (Debian's container-device-interface
// 0.5.2) doing the work of `cdi-hook inject`, for the benchmark (bench/run.sh)
// and the compatibility tests (tests/compat).
//
//	go-peer [-config FILE] [-spec-dir DIR]... [-device NAME]... [-spec-errors]
//
// Reads the OCI config from FILE (default: stdin), injects the devices named
// by -device, or else by its cdi.k8s.io/ annotations, resolved over the spec
// dirs (default: the library's, /etc/cdi and /var/run/cdi), and writes the
// config as JSON on stdout. When nothing is requested no spec dir is read and
// the config is written unchanged, as the hook does. With -spec-errors the spec
// files the library could not use are listed on stderr, in name order, as
// "spec-error: FILE: ERROR" lines (the benchmark leaves this out, to do no more
// than the hook does).
//
// Exit status: 0 injected (or nothing requested), 1 injection failed, 2 bad
// input or usage.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	var data []byte
	var err error
	if path == "" || path == "-" {
		data, err = io.ReadAll(os.Stdin)
		path = "stdin"
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		fail(2, "%v", err)
	}
	config := &oci.Spec{}
	if err := json.Unmarshal(data, config); err != nil {
		fail(2, "OCI config %s: %v", path, err)
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
	configPath := flag.String("config", "", "OCI config.json to edit (default: stdin)")
	flag.Var(&specDirs, "spec-dir", "CDI spec dir, in increasing priority (repeatable)")
	flag.Var(&devices, "device", "qualified CDI device name (repeatable; default: the cdi.k8s.io/ annotations)")
	specErrors := flag.Bool("spec-errors", false, "list the spec files the library could not use on stderr")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}

	config := readConfig(*configPath)
	requested := []string(devices)
	if len(requested) == 0 {
		var err error
		if _, requested, err = cdi.ParseAnnotations(config.Annotations); err != nil {
			fail(2, "annotations: %v", err)
		}
	}
	if len(requested) > 0 || *specErrors {
		options := []cdi.Option{cdi.WithAutoRefresh(false)}
		if len(specDirs) > 0 {
			options = append(options, cdi.WithSpecDirs(specDirs...))
		}
		// NewCache scans the dirs once; a spec that failed is reported by injection.
		cache, err := cdi.NewCache(options...)
		if err != nil {
			fail(1, "cache: %v", err)
		}
		if *specErrors {
			reportSpecErrors(cache)
		}
		if len(requested) > 0 {
			if _, err := cache.InjectDevices(config, requested...); err != nil {
				fail(1, "%v", err)
			}
		}
	}

	out, err := json.Marshal(config)
	if err != nil {
		fail(1, "encoding: %v", err)
	}
	if _, err := os.Stdout.Write(append(out, '\n')); err != nil {
		fail(1, "writing stdout: %v", err)
	}
}
