package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time (make bin/zwrm):
//
//	-ldflags "-X main.version=v1.2.0 -X main.commit=abc123 -X main.buildDate=2026-01-02T03:04:05Z"
//
// Left empty, they come from the module and VCS data go build records.
var version, commit, buildDate string

// buildInfo is what zwrm --version and zwrm version print.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: buildDate, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			case s.Key == "vcs.modified" && s.Value == "true" && version == "" && b.Version == "":
				b.Version = "dev (modified)"
			}
		}
	}
	for _, f := range []*string{&b.Version, &b.Commit, &b.Date} {
		if *f == "" {
			*f = "unknown"
		}
	}
	if b.Version == "unknown" {
		b.Version = "dev"
	}
	return b
}

func (b buildInfo) String() string {
	return fmt.Sprintf("zwrm %s (commit %s, built %s, %s)", b.Version, b.Commit, b.Date, b.Go)
}

func newVersion(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print zwrm's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := currentBuild()
			if a.jsonOutput() {
				return a.printJSON(b)
			}
			a.say("%s", b)
			return nil
		},
	}
}
