package main

import (
	"slices"
	"testing"
)

func TestTheExtensionIsPublishedAsAnArm64LayerWithItsArnInTheOutputs(t *testing.T) {
	s := stackUnderTest(t)
	id := s.logicalID(t, "ExtensionLayer")
	r, ok := s.tpl.Resources[id]
	if !ok || r.Type != "AWS::Lambda::LayerVersion" {
		t.Fatalf("no layer version %s", id)
	}
	if got := jsonString(r.Properties["CompatibleArchitectures"]); got != `["arm64"]` {
		t.Errorf("architectures %s, want arm64 only (the binary is built for linux/arm64)", got)
	}
	runtimes, _ := r.Properties["CompatibleRuntimes"].([]any)
	for _, want := range []string{"provided.al2023", "provided.al2", "nodejs22.x"} {
		if !slices.Contains(runtimes, any(want)) {
			t.Errorf("runtimes %v lack %s", runtimes, want)
		}
	}
	if r.DeletionPolicy != "Retain" {
		t.Errorf("deletion policy %q: functions that pinned a version would lose it", r.DeletionPolicy)
	}
	out, ok := s.tpl.Outputs["ExtensionLayerArn"]
	if !ok {
		t.Fatal("no ExtensionLayerArn output")
	}
	if !slices.Contains(refs(out.Value), id) {
		t.Errorf("ExtensionLayerArn = %s, want it to name %s", jsonString(out.Value), id)
	}
}
