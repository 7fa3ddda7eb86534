// Package testutil holds test-only helpers: skips that name the missing
// privilege or tool, network namespace fixtures, and corpus helpers.
package testutil
