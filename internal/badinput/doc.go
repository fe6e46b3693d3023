// Package badinput holds buoy's bad-input corpus tests: malformed
// manifests and image references (and, driven through the built
// entrypoints, bad flags and CI inputs). Every case names the error text
// it expects; none may panic, hang or be accepted.
//
// The corpus lives in testdata/badinput/ at the root of the repository,
// one directory per kind of input, each with a cases.json that pairs a
// file with the substring its error must contain.
package badinput
