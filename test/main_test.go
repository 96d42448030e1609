package test

import (
	"os"
	"testing"
)

// TestMain removes the sample app's cloud assembly after all tests of the package ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if sampleApp != nil {
		os.RemoveAll(sampleApp.outdir)
	}
	os.Exit(code)
}
