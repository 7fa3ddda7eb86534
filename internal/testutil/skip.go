package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// StrictEnv is the environment variable that turns every skip for a missing
// tool, privilege or kernel feature into a failure. `make test` and CI set
// it, so those tests run there instead of skipping.
const StrictEnv = "WEIR_STRICT"

// Strict reports whether missing requirements must fail rather than skip.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// skipOrFail skips the test with the reason, or fails it in strict mode.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s (%s=1: requirements must be met)", reason, StrictEnv)
	}
	t.Skip(reason)
}

// RequireTool returns the path of an external program, or skips (fails in
// strict mode) naming the Debian package that provides it.
func RequireTool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, name+" not found: install it with 'apt-get install -y "+debianPackage+"'")
	}
	return path
}

// RequireRoot skips (fails in strict mode) unless the test runs as root,
// naming the capability the test needs.
func RequireRoot(t testing.TB, capability string) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs "+capability+" (run as root)")
	}
}
