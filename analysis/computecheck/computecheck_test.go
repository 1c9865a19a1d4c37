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
