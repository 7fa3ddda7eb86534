//go:build unix

package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// dropPrivileges becomes the named user, with its primary and
// supplementary groups, as tcpdump's droproot: groups first, then the
// group ID, then the user ID, so that no step is refused for want of
// privilege. Go applies each call to every thread of the process. When
// the process is not root it does nothing, as tcpdump.
func dropPrivileges(name string) error {
	if os.Getuid() != 0 && os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("couldn't find user '%s'", name)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("user '%s' has a non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("user '%s' has a non-numeric gid %q", name, u.Gid)
	}
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		groups = groups[:0]
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil {
				groups = append(groups, n)
			}
		}
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("couldn't change to '%s' uid=%d gid=%d: %s: %s", name, uid, gid, step, describe(err))
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fail("setgroups", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fail("setgid", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fail("setuid", err)
	}
	return nil
}
