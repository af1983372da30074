package policy

import (
	"testing"
	"context"
)

func BenchmarkParseTeam(b *testing.B) {
	data := []byte(header + "  - {id: x, action: deny, on: finding, expr: 'finding.kev'}\n")
	for b.Loop() {
		if _, err := ParsePolicy("x", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p, _ := ParsePolicy("x", []byte(header + "  - {id: x, action: deny, on: finding, expr: 'finding.kev'}\n"))
	for b.Loop() {
		(&Engine{Policies: []*Policy{p}}).Evaluate(context.Background(), almaAppReport())
	}
}
