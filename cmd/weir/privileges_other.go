//go:build !unix

package main

import "errors"

// dropPrivileges is refused where there are no Unix user IDs.
func dropPrivileges(name string) error {
	return errors.New("-Z: dropping privileges is not supported on this system")
}
