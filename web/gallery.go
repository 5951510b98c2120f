package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// galleryCard is one lesson of the gallery with its preview, drawn once at
// startup.
type galleryCard struct {
	Lesson
	// Shape is the network's shape in words: "3 inputs → 4 → 1".
	Shape string
	// Preview is an inline SVG of the network and, for 2-D lessons, the data.
	Preview template.HTML
}

// maxPreviewPoints bounds the points a preview draws; more only darken it.
const maxPreviewPoints = 300

// galleryCards describes every lesson of cat for the gallery.
func galleryCards(cat LessonCatalog) []galleryCard {
	describer, _ := cat.(LessonDescriber)
	var cards []galleryCard
	for _, name := range cat.Names() {
		l := Lesson{Name: name}
		if describer != nil {
			l, _ = describer.Describe(name)
		}
		if l.Title == "" {
			l.Title, _ = cat.Title(name)
		}
		cards = append(cards, galleryCard{Lesson: l, Shape: shapeText(l.Layers), Preview: previewSVG(l)})
	}
	return cards
}

// shapeText describes layer sizes in words.
func shapeText(layers []int) string {
	if len(layers) < 2 {
		return ""
	}
	parts := []string{fmt.Sprintf("%d input%s", layers[0], plural(layers[0]))}
	for _, n := range layers[1:] {
		parts = append(parts, strconv.Itoa(n))
	}
	last := layers[len(layers)-1]
	return strings.Join(parts, " → ") + fmt.Sprintf(" output%s", plural(last))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// previewSVG draws a lesson's network as columns of circles joined by lines
// and, for a 2-D lesson, its training points beside it: circles for class
// 1, squares for class 0, so colour is not the only difference.
func previewSVG(l Lesson) template.HTML {
	const w, h = 280.0, 140.0
	var b strings.Builder
	label := "The network"
	if s := shapeText(l.Layers); s != "" {
		label += ": " + s
	}
	if len(l.Points) > 0 {
		label += fmt.Sprintf(", and %d training points in the plane", min(len(l.Points), maxPreviewPoints))
	}
	fmt.Fprintf(&b, `<svg class="preview" viewBox="0 0 %g %g" role="img" aria-label="%s">`, w, h, html.EscapeString(label))
	const side = h - 24 // the plane's square
	right := w - 14
	if len(l.Points) > 0 {
		right = w - side - 36
	}
	drawNetwork(&b, l.Layers, 14, 14, right, h-14)
	if len(l.Points) > 0 {
		drawPoints(&b, l.Points, w-side-12, 12, side)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// maxPreviewNeurons is the most neurons a preview column shows.
const maxPreviewNeurons = 7

// drawNetwork draws the layers within the box (x0, y0)–(x1, y1).
func drawNetwork(b *strings.Builder, layers []int, x0, y0, x1, y1 float64) {
	if len(layers) == 0 {
		return
	}
	type node struct{ x, y float64 }
	cols := make([][]node, len(layers))
	for c, n := range layers {
		shown := min(n, maxPreviewNeurons)
		x := x0 + (x1-x0)/2
		if len(layers) > 1 {
			x = x0 + (x1-x0)*float64(c)/float64(len(layers)-1)
		}
		gap := min(18.0, (y1-y0)/float64(max(shown, 1)))
		top := (y0+y1)/2 - gap*float64(shown-1)/2
		for j := 0; j < shown; j++ {
			cols[c] = append(cols[c], node{x, top + gap*float64(j)})
		}
	}
	b.WriteString(`<g class="preview-edges">`)
	for c := 1; c < len(cols); c++ {
		for _, to := range cols[c] {
			for _, from := range cols[c-1] {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, from.x, from.y, to.x, to.y)
			}
		}
	}
	b.WriteString(`</g><g class="preview-nodes">`)
	for c, col := range cols {
		cls := "hidden"
		if c == 0 {
			cls = "input"
		} else if c == len(cols)-1 {
			cls = "output"
		}
		for _, n := range col {
			fmt.Fprintf(b, `<circle class="%s" cx="%.1f" cy="%.1f" r="6"/>`, cls, n.x, n.y)
		}
		if more := layers[c] - len(col); more > 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">+%d</text>`, col[0].x, y1+10, more)
		}
	}
	b.WriteString(`</g>`)
}

// drawPoints draws up to maxPreviewPoints points of the plane −6…6 in a
// square of side size at (x0, y0), x2 upwards.
func drawPoints(b *strings.Builder, pts []Point, x0, y0, size float64) {
	fmt.Fprintf(b, `<rect class="preview-plane" x="%g" y="%g" width="%g" height="%g"/>`, x0, y0, size, size)
	step := max(1, int(math.Ceil(float64(len(pts))/maxPreviewPoints)))
	b.WriteString(`<g class="preview-points">`)
	for i := 0; i < len(pts); i += step {
		p := pts[i]
		px := x0 + (clamp6(p.X1)+6)/12*size
		py := y0 + (6-clamp6(p.X2))/12*size
		if p.Class > 0 {
			fmt.Fprintf(b, `<circle class="class-%d" cx="%.1f" cy="%.1f" r="2.2"/>`, min(p.Class, 9), px, py)
		} else {
			fmt.Fprintf(b, `<rect class="class-0" x="%.1f" y="%.1f" width="3.6" height="3.6"/>`, px-1.8, py-1.8)
		}
	}
	b.WriteString(`</g>`)
}

func clamp6(v float64) float64 { return max(-6, min(6, v)) }

// galleryPage serves /lessons: every lesson with its title, summary and
// preview, each linking to its page.
func (h *handler) galleryPage(w http.ResponseWriter, r *http.Request) {
	h.execute(w, r, h.gallery, struct{ Cards []galleryCard }{h.galleryCards}, false)
}
