// go-peer: the benchmark's reference run. Reads an OCI config on stdin, takes
// the devices its cdi.k8s.io/ annotations request, resolves them over the spec
// dirs with Debian's CDI Go package (0.5.2), injects them and prints the
// config as JSON on stdout: the same work as `cdi-hook hook` in precreate mode.
//
//	go-peer [-spec-dir DIR]...
//
// Without -spec-dir the library's defaults (/etc/cdi, /var/run/cdi) are used.
// Exit status: 0 injected (or nothing requested), 1 injection failed, 2 bad input.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/container-orchestrated-devices/container-device-interface/pkg/cdi"
	oci "github.com/opencontainers/runtime-spec/specs-go"
)

type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(v string) error { *d = append(*d, v); return nil }

func fail(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-peer: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	var dirs dirList
	flag.Var(&dirs, "spec-dir", "CDI spec directory, lowest priority first (repeatable)")
	flag.Parse()

	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(2, "reading stdin: %v", err)
	}
	var config oci.Spec
	if err := json.Unmarshal(input, &config); err != nil {
		fail(2, "OCI config on stdin: %v", err)
	}
	_, devices, err := cdi.ParseAnnotations(config.Annotations)
	if err != nil {
		fail(2, "annotations: %v", err)
	}
	if len(devices) > 0 {
		options := []cdi.Option{cdi.WithAutoRefresh(false)}
		if len(dirs) > 0 {
			options = append(options, cdi.WithSpecDirs(dirs...))
		}
		// NewCache scans the dirs once; spec errors are reported by injection.
		cache, err := cdi.NewCache(options...)
		if err != nil {
			fail(1, "cache: %v", err)
		}
		if _, err := cache.InjectDevices(&config, devices...); err != nil {
			fail(1, "%v", err)
		}
	}
	out, err := json.Marshal(&config)
	if err != nil {
		fail(1, "encoding: %v", err)
	}
	out = append(out, '\n')
	if _, err := os.Stdout.Write(out); err != nil {
		fail(1, "writing stdout: %v", err)
	}
}
