package verify

import (
	"fmt"
	"strings"
	"testing"
)

// TestVerifyStepSummaryIsCapped: GitHub refuses a step summary over 1 MiB
// (about 380 artifacts' rows): the summary stops at a whole row under the
// cap and says how many rows were left out.
func TestVerifyStepSummaryIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("| artifact | bundle | check | status |\n|---|---|---|---|\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "| asset-%05d | asset-%05d.sigstore.json | 7 predicate | pass |\n", i, i)
	}
	md := b.String()
	got := capSummary(md, maxSummaryBytes)
	if len(got) >= 1<<20 {
		t.Fatalf("capped summary is %d bytes, not under 1 MiB", len(got))
	}
	body, note, ok := strings.Cut(got, "\n… ")
	if !ok || !strings.HasSuffix(strings.TrimRight(body, "\n"), "|") {
		t.Fatalf("the summary does not end on a whole row before the note:\n%s", got[len(got)-300:])
	}
	kept := strings.Count(body, "\n| asset-")
	var left int
	if _, err := fmt.Sscanf(note, "%d more rows left out", &left); err != nil || kept+left != 20000 {
		t.Errorf("kept %d and said %d left out (%v), want 20000 in all: %q", kept, left, err, note)
	}
	if short := "| a | b |\n"; capSummary(short, maxSummaryBytes) != short {
		t.Error("a short summary was changed")
	}
}
