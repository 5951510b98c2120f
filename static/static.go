// Package static holds what the browser runs: the page's ES modules, its
// style sheets and the vendored libraries under vendor/ (fetched and pinned by
// vendor/fetch.sh). FS is served under /static/ by package web.
package static

import "embed"

// FS is the static folder: js/, css/, img/ (the favicon) and vendor/. The Go and shell sources
// are left out, and so is vendor/uplot's uPlot.min.d.ts (its types, for
// tsc --checkJs only); the page's unit tests live in web/jstest and axe-core
// (used by the accessibility test only) in e2e/testdata, so neither is
// embedded.
//
//go:embed js/*.js css img vendor/VERSIONS vendor/katex vendor/uplot/*.js vendor/uplot/*.css vendor/uplot/LICENSE
var FS embed.FS
