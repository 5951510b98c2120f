// Package templates holds the html/template pages that package web renders.
// They carry no inline scripts or event handlers: the pages are served with
// a Content-Security-Policy of script-src 'self'.
package templates

import "embed"

// FS is every *.html page in this folder.
//
//go:embed *.html
var FS embed.FS
