package testutil

import (
	"errors"
	"syscall"
	"testing"
)

// SmallTmpfs mounts a tmpfs of the given size ("256k") on a temporary
// directory for the test, to fill it; Cleanup unmounts it. Without
// CAP_SYS_ADMIN the test skips (fails under WEIR_STRICT=1).
func SmallTmpfs(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			skipOrFail(t, "mounting a tmpfs needs CAP_SYS_ADMIN: "+err.Error())
		}
		t.Fatalf("testutil: mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("testutil: unmounting %s: %v", dir, err)
		}
	})
	return dir
}
