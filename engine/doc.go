// Package engine is netstep's numbers and nothing else: lessons (parsing,
// validation, data generators), fully connected networks, activations,
// losses, optimizers, and the step machine that moves through training one
// neuron, phase, sample, batch or epoch at a time, forward and back.
//
// Every value a page shows comes from here, as an Event (one neuron's
// forward value, a sample's loss, one neuron's share of the blame, one
// weight's update) or as a State snapshot. The engine imports only the
// standard library and gonum, so it can be tested, benchmarked and traced
// without a server.
//
// A session can be saved and rebuilt: Trainer.Snapshot writes it to a
// compact versioned snapshot and Restore reads it back; Trainer.Record
// keeps a log of the commands done to it, which Apply does again and
// Replay does from the lesson's start. Either way the rebuilt session
// equals the original bit for bit, Back included (snapshot.go,
// commandlog.go).
//
// Numbers are float64. The same lesson and the same commands give the same
// data, events, states and snapshots, bit for bit, on every run and on
// every machine Go targets: amd64 with or without FMA instructions
// (GOAMD64=v1 to v4), arm64, WebAssembly and the rest. Three things make it
// so. Randomness (starting weights, data, shuffles) comes from PCGs seeded
// by the lesson's seed, one stream per purpose. Every transcendental
// function the numbers pass through (exp, log, tanh, sigmoid, softplus,
// sin, cos, hypot, Adam's 0.9**t) is the engine's own, in plain float64
// arithmetic (mathx.go); the standard library's may differ in the last bit
// between CPUs. And every product that meets a sum is wrapped in
// float64(…): the Go spec lets a compiler fuse x*y + z into one
// multiply-add, rounded once, wherever the CPU has one (arm64 always, amd64
// at GOAMD64=v3), and an explicit conversion forbids it. The decision
// boundaries' heatmaps go through the same forward pass. One thing stays
// outside: the house_prices generator keeps math/rand's NormFloat64 for the
// prices the built-in house lessons quote, exact but on its rare slow paths
// (see housePriceData), which rounding prices to $1,000 covers.
//
// test.sh checks it: the golden traces of every built-in lesson and the
// digests of random sessions of random lessons (every generator,
// activation, loss, optimizer and regularization), written on amd64, are
// checked again on arm64 under qemu, at GOAMD64=v3 where the CPU has AVX2,
// and in WebAssembly under Node.
package engine
