// Package e2e drives ihoprauth from the outside, the way its users do: a
// browser clicking through the example's page (TestBrowser), and the load
// tools of BENCHMARKS.md (loadtest/). It is a module of its own, so that
// the library's go.mod requires nothing that only these need (chromedp),
// and every app that imports ihoprauth resolves none of it. Its tests run
// from this directory, since go test ./... at the repository's root skips
// nested modules:
//
//	cd e2e && go test ./...
//
// TestBrowser builds ../example with the root module, as go run ./example
// does, starts it on a loopback port over a new SQLite file, and skips
// without Chromium at /usr/bin/chromium (Debian's chromium package;
// .ci/run installs it).
package e2e
