// Package sampleevents embeds the sample events of this folder for tests.
package sampleevents

import "embed"

// FS holds every sample event (*.json).
//
//go:embed *.json
var FS embed.FS
