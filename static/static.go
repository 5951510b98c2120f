// Package static holds what the browser runs: the page's ES modules, its
// style sheets and the vendored libraries under vendor/ (fetched and pinned by
// vendor/fetch.sh). FS is served under /static/ by package web.
package static

import "embed"

// FS is the static folder: js/, css/ and vendor/. The Go and shell sources
// are left out; package web refuses to serve the node tests (*.test.js).
//
//go:embed js/*.js css vendor/VERSIONS vendor/katex vendor/axe-core vendor/uplot
var FS embed.FS
