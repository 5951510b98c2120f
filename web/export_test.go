package web

// MinifyOwn is minifyOwn, for the external tests: the bytes a static file
// is sent as, or why the minifier could not read it.
var MinifyOwn = minifyOwn
