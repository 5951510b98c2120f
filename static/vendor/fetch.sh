#!/usr/bin/env bash
# fetch.sh refreshes the vendored browser libraries from the npm registry.
#
# Each library is fetched with `npm pack NAME@VERSION` (pinned here), its
# tarball's sha512 integrity is checked against the registry's, and only the
# files the page needs are kept. VERSIONS records what was taken.
#
# Run from anywhere: bash static/vendor/fetch.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

KATEX=0.19.1
AXE=4.14.1
UPLOT=1.6.32

# pack NAME VERSION: downloads the tarball into $work/NAME and unpacks it.
# Prints the tarball's integrity string.
pack() {
	local name="$1" version="$2" dir="$work/$1"
	mkdir -p "$dir"
	(cd "$dir" && npm pack --silent "$name@$version" >/dev/null)
	local tgz
	tgz="$(ls "$dir"/*.tgz)"
	local want got
	want="$(npm view "$name@$version" dist.integrity)"
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	if [ "$want" != "$got" ]; then
		echo "fetch.sh: $name@$version: integrity $got, registry says $want" >&2
		exit 1
	fi
	tar -xzf "$tgz" -C "$dir"
	echo "$got"
}

katex_sri="$(pack katex "$KATEX")"
rm -rf "$here/katex"
mkdir -p "$here/katex/fonts"
cp "$work/katex/package/dist/katex.min.js" "$work/katex/package/dist/katex.min.css" "$work/katex/package/LICENSE" "$here/katex/"
cp "$work/katex/package/dist/fonts/"*.woff2 "$here/katex/fonts/"

axe_sri="$(pack axe-core "$AXE")"
# axe-core is for the accessibility test only: it lives beside the end-to-end
# tests, outside what the binary embeds and serves.
axe_dir="$here/../../e2e/testdata/axe-core"
rm -rf "$axe_dir"
mkdir -p "$axe_dir"
cp "$work/axe-core/package/axe.min.js" "$work/axe-core/package/LICENSE" "$axe_dir/"

uplot_sri="$(pack uplot "$UPLOT")"
# uPlot.min.d.ts is ours (the API charts.js uses, for tsc --checkJs): kept.
mkdir -p "$here/uplot"
rm -f "$here/uplot/uPlot.min.js" "$here/uplot/uPlot.min.css" "$here/uplot/LICENSE"
cp "$work/uplot/package/dist/uPlot.min.css" "$work/uplot/package/LICENSE" "$here/uplot/"
# The package's minified build is a script that defines uPlot (22 KB gzipped
# against 42 KB for its unminified module): one export line makes it an ES
# module the page imports without a build step.
{
	echo '// @ts-nocheck (uPlot 1.6.32, minified by its authors; tsc --checkJs checks our code, not this)'
	cat "$work/uplot/package/dist/uPlot.iife.min.js"
	printf '\nexport default uPlot;\n'
} > "$here/uplot/uPlot.min.js"

cat > "$here/VERSIONS" <<VERSIONS
# Vendored by static/vendor/fetch.sh; do not edit by hand.
# name version integrity (sha512 of the npm tarball)
katex $KATEX $katex_sri
axe-core $AXE $axe_sri (in e2e/testdata/axe-core: tests only)
uplot $UPLOT $uplot_sri
VERSIONS
echo "fetch.sh: vendored katex $KATEX, axe-core $AXE, uplot $UPLOT"
