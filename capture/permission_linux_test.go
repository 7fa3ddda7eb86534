package capture

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// permissionChildEnv marks the child process of TestOpenWithoutCapNetRaw.
const permissionChildEnv = "WEIR_CAPTURE_PERMISSION_CHILD"

// TestOpenWithoutCapNetRaw checks that opening a packet socket without
// CAP_NET_RAW fails with a PermissionError that says what to do: directly
// when not root, else in the test binary run again without the capability
// in its bounding set (setpriv).
func TestOpenWithoutCapNetRaw(t *testing.T) {
	if os.Getenv(permissionChildEnv) == "1" || os.Geteuid() != 0 {
		_, err := Open(Config{Interface: "lo"})
		var perr *PermissionError
		if !errors.As(err, &perr) || !errors.Is(err, os.ErrPermission) {
			t.Fatalf("Open without CAP_NET_RAW: %v", err)
		}
		msg := err.Error()
		t.Log(msg)
		for _, want := range []string{"lo: ", "CAP_NET_RAW", "setcap cap_net_raw,cap_net_admin=eip "} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		return
	}
	setpriv := testutil.RequireTool(t, "setpriv", "util-linux")
	cmd := exec.Command(setpriv, "--bounding-set=-net_raw", "--inh-caps=-net_raw",
		os.Args[0], "-test.run=^TestOpenWithoutCapNetRaw$", "-test.count=1")
	cmd.Env = append(os.Environ(), permissionChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_NET_RAW: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child did not run the test:\n%s", out)
	}
}

func TestPermissionErrorMessage(t *testing.T) {
	err := error(&PermissionError{Interface: "eth0", Op: "socket", Err: syscall.EPERM})
	if !errors.Is(err, os.ErrPermission) || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("%v does not wrap os.ErrPermission and EPERM", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "eth0: socket: operation not permitted: capturing needs CAP_NET_RAW") {
		t.Errorf("message %q", msg)
	}
}
