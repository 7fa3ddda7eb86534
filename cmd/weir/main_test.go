package main

import (
	"os"
	"testing"
)

// asWeirEnv makes the test binary run as the weir command itself, so that
// tests can start weir as a child process (in a network namespace, or to
// watch it change its user ID) without building it first.
const asWeirEnv = "WEIR_TEST_RUN_AS_WEIR"

func TestMain(m *testing.M) {
	if os.Getenv(asWeirEnv) == "1" {
		main()
	}
	if mode := os.Getenv(spareChildEnv); mode != "" {
		spareChild(mode == "park")
		return
	}
	os.Exit(m.Run())
}
