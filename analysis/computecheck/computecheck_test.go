package computecheck_test

import (
	"testing"

	"github.com/cachegen/cachegen/analysis/computecheck"
	"golang.org/x/tools/go/analysis/analysistest"
)

func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer,
		"example.com/captures", "example.com/ambient", "example.com/globals",
		"example.com/lib", "example.com/user", "example.com/wrap",
		"example.com/envwrap", "example.com/initvars", "example.com/helpers2", "example.com/resolve",
		"example.com/allows", "example.com/stdtable", "example.com/sibapp", "example.com/sibread", "example.com/sibset",
		"example.com/writes", "example.com/tables", "example.com/metrics",
		"example.com/deepapp", "example.com/xread", "example.com/ambient3",
	)
}

// A method changing a field of its receiver changes that struct, not what its other fields
// hold.
func TestStateHolder(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/stateholder")
}

// Sorting a copy of a slice moves the copy's elements.
func TestSortCopy(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/sortcopy")
}

// An interface variable assigned only in its declaration calls its own type's method.
func TestIfaceFixed(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/ifacefixed")
}

// WriteTo reads its receiver; v = v op e is a write only.
func TestWriteTail(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/wotail")
}

// Writes through method values.
func TestMethodValue(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/methodvalue")
}

// Write summaries reach the end of a long call chain.
func TestDeepChain(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), computecheck.Analyzer, "example.com/deepchain")
}
