// Package browsertest drives a real headless Chromium from Go tests, through the
// WebDriver HTTP API of chromedriver on loopback. It adds no dependency: the WebDriver
// client is the few calls the bridge's browser tests need.
//
// Install the browser first (CI does this):
//
//	scripts/browser-deps.sh   # Debian's chromium and chromium-driver
//
// A test starts one browser and drives it; everything is stopped in t.Cleanup:
//
//	b := browsertest.Start(t, browsertest.Options{})
//	if err := b.Navigate(pageURL); err != nil {
//		t.Fatal(err)
//	}
//	if err := b.Type("#username", "alyssa"); err != nil { ... }
//	if err := b.Click("#kc-login"); err != nil { ... }
//	el, err := b.WaitFor("#signed-in", 10*time.Second)
//	b.Screenshot(filepath.Join(t.ArtifactDir(), "signed-in.png"))
//
// Start fails the test (never skips it) when chromium or chromedriver is missing, naming
// the script that installs them. Each browser gets a fresh profile under t.TempDir(), so
// tests share no cookies. chromedriver runs in a process group of its own, and Cleanup
// ends that group, Chromium included, even when the test fails half-way.
//
// When the test has failed by the time Cleanup runs, the browser's last screenshot,
// page source and console log are saved under t.ArtifactDir() (kept with
// `go test -artifacts -outputdir=DIR`).
//
// Chromium is started with its background services off and every host name but
// localhost resolving to nothing, so a page under test reaches only loopback servers.
//
// The environment variables CHROMIUM and CHROMEDRIVER name other binaries than the ones
// found on PATH.
package browsertest
