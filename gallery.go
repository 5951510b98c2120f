package main

import (
	"github.com/netstep/netstep/engine"
	"github.com/netstep/netstep/web"
)

// galleryLesson describes a lesson for the gallery: its words, its shape
// and, for a 2-D lesson, its training points with their classes. It builds a
// trainer once to get the points exactly as the page plots them.
func galleryLesson(name string, l *engine.Lesson) web.Lesson {
	wl := web.Lesson{Name: name, Title: l.Title, Summary: l.Summary}
	wl.Layers = append(wl.Layers, len(l.Network.Inputs))
	for _, ls := range l.Network.Layers {
		wl.Layers = append(wl.Layers, ls.Size)
	}
	if !l.Is2D() {
		return wl
	}
	tr, err := engine.NewTrainer(l)
	if err != nil {
		return wl
	}
	st := tr.State(true)
	if st.Data == nil {
		return wl
	}
	last := l.Network.Layers[len(l.Network.Layers)-1].Activation
	for _, p := range st.Data.Train {
		if len(p.Point) != 2 {
			continue
		}
		wl.Points = append(wl.Points, web.Point{X1: p.Point[0], X2: p.Point[1], Class: pointClass(p.Y, last)})
	}
	return wl
}

// pointClass is the class a target stands for: the biggest of several
// outputs; for one output, above the middle of its activation's range.
func pointClass(y []float64, act engine.Activation) int {
	if len(y) == 0 {
		return 0
	}
	if len(y) > 1 {
		best := 0
		for k, v := range y {
			if v > y[best] {
				best = k
			}
		}
		return best
	}
	mid := 0.5
	if act == engine.Tanh || act == engine.Linear {
		mid = 0
	}
	if y[0] > mid {
		return 1
	}
	return 0
}
