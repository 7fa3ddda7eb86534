// Package testutil holds test-only helpers: skips that name the missing
// privilege or tool, the kernel as an oracle for classic BPF programs,
// network namespace fixtures, and corpus helpers.
package testutil
