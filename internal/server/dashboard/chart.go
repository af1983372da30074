package dashboard

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/drydock-scan/drydock/internal/store"
)

// chart is the trend drawn as inline SVG on the server, with its numbers
// (the page shows them as a table too: a chart alone says nothing to a
// screen reader or on paper in black and white).
type chart struct {
	SVG  template.HTML
	Days []store.TrendDay
	Max  int
}

// The chart's geometry, in SVG user units (it scales to its box).
const (
	chartW, chartH     = 720, 200
	padL, padR         = 48, 44
	padT, padB         = 12, 28
	plotW, plotH       = chartW - padL - padR, chartH - padT - padB
	barShare           = 0.7 // of a day's width
	gridLines          = 4
	chartLabelEveryDay = 5
)

// trendChart draws open findings per day as a line, and the findings
// first seen and resolved each day as bars (up and down, with a pattern
// as well as a colour for the resolved ones).
func trendChart(days []store.TrendDay) *chart {
	c := &chart{Days: days}
	maxBar := 0
	for _, d := range days {
		c.Max = max(c.Max, d.Open)
		maxBar = max(maxBar, d.FirstSeen, d.Resolved)
	}
	top := niceCeil(max(c.Max, 1))
	barTop := niceCeil(max(maxBar, 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH)
	first, last := "", ""
	if len(days) > 0 {
		first, last = days[0].Day.Format("2 Jan"), days[len(days)-1].Day.Format("2 Jan")
	}
	fmt.Fprintf(&b, `<title id="trend-title">Open findings per day, %s to %s</title>`, first, last)
	now := 0
	if len(days) > 0 {
		now = days[len(days)-1].Open
	}
	fmt.Fprintf(&b, `<desc id="trend-desc">A line of the findings open at the end of each day (now %d, at most %d), with bars of the findings first seen and resolved each day. The same numbers are in the table below the chart.</desc>`, now, c.Max)
	b.WriteString(`<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="2" height="4" class="hatch"/></pattern></defs>`)
	for i := 0; i <= gridLines; i++ {
		y := padT + plotH - plotH*i/gridLines
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padL, padL+plotW, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%d</text>`, padL-6, y+4, top*i/gridLines)
	}
	// The bars' own scale, on the right: they fill at most half the plot.
	for i := 0; i <= 2; i++ {
		y := padT + plotH - plotH/2*i/2
		fmt.Fprintf(&b, `<text class="axis axis-bars" x="%d" y="%d" text-anchor="start">%d</text>`, padL+plotW+4, y+4, barTop*i/2)
	}
	fmt.Fprintf(&b, `<text class="axis axis-bars" x="%d" y="%d" text-anchor="end">per day</text>`, padL+plotW+36, padT+plotH/2-10)
	n := max(len(days), 1)
	step := float64(plotW) / float64(n)
	var line []string
	for i, d := range days {
		x := float64(padL) + step*float64(i)
		// Bars from the baseline: first seen up (solid), resolved up
		// beside it (hatched), on their own scale (the right half of
		// the plot's height).
		bw := step * barShare / 2
		if d.FirstSeen > 0 {
			h := float64(plotH/2) * float64(d.FirstSeen) / float64(barTop)
			fmt.Fprintf(&b, `<rect class="bar-new" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d first seen</title></rect>`,
				x+step*(1-barShare)/2, float64(padT+plotH)-h, bw, h, d.Day.Format("2 Jan"), d.FirstSeen)
		}
		if d.Resolved > 0 {
			h := float64(plotH/2) * float64(d.Resolved) / float64(barTop)
			fmt.Fprintf(&b, `<rect class="bar-resolved" fill="url(#hatch)" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d resolved</title></rect>`,
				x+step*(1-barShare)/2+bw, float64(padT+plotH)-h, bw, h, d.Day.Format("2 Jan"), d.Resolved)
		}
		y := float64(padT+plotH) - float64(plotH)*float64(d.Open)/float64(top)
		line = append(line, fmt.Sprintf("%.1f,%.1f", x+step/2, y))
		if i%chartLabelEveryDay == 0 || i == len(days)-1 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+step/2, chartH-8, d.Day.Format("2 Jan"))
		}
	}
	if len(line) > 0 {
		fmt.Fprintf(&b, `<polyline class="line-open" points="%s"/>`, strings.Join(line, " "))
		for i, d := range days {
			x := float64(padL) + step*float64(i) + step/2
			y := float64(padT+plotH) - float64(plotH)*float64(d.Open)/float64(top)
			fmt.Fprintf(&b, `<circle class="dot-open" cx="%.1f" cy="%.1f" r="2.5"><title>%s: %d open</title></circle>`, x, y, d.Day.Format("2 Jan"), d.Open)
		}
	}
	b.WriteString(`</svg>`)
	// Every string in it is a number or a date this function formatted.
	c.SVG = template.HTML(b.String()) //nolint:gosec // no user input
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, for the axis.
func niceCeil(n int) int {
	p := 1
	for {
		for _, m := range []int{1, 2, 5} {
			if n <= m*p {
				return m * p
			}
		}
		p *= 10
	}
}
