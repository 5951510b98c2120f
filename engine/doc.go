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
// Numbers are float64. The same lesson gives the same events, bit for bit, on
// every run and every machine: shuffles derive from the lesson's seed, and
// the transcendental functions are computed in plain float64 arithmetic with
// no fused multiply-adds (see mathx.go).
package engine
