package testutil

import "flag"

// update is the one -update flag of every test binary in the module;
// declaring it here keeps packages from registering it twice.
var update = flag.Bool("update", false, "regenerate golden files from the reference tools")

// Update reports whether the test run was asked to regenerate its golden
// files (go test -update).
func Update() bool { return *update }
