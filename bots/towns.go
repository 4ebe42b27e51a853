package bots

import (
	_ "embed"
	"strings"
	"sync"
)

// People name their town far more often than their country ("guelph. does
// the fog lift", "a doctor in seremban"), and no hand-kept list holds every
// town. towns.txt holds GeoNames' larger towns whose name says one region
// (see its header); the regions' own places always come first. A town from
// it counts only where the words around it say it is a place, since many
// towns are also people's names ("my buddy jackson").

//go:embed towns.txt
var townsText string

// townIndex maps a town's first word to the towns starting with it.
var townIndex = sync.OnceValue(func() map[string][]town {
	idx := map[string][]town{}
	for _, l := range strings.Split(townsText, "\n") {
		name, code, ok := strings.Cut(l, "\t")
		if !ok || l[0] == '#' {
			continue
		}
		ws := strings.Fields(name)
		idx[ws[0]] = append(idx[ws[0]], town{ws, code})
	}
	return idx
})

type town struct {
	words  []string
	region string // a region code
}

// townBefore are words right before a town that say it is a place.
var townBefore = map[string]bool{"in": true, "near": true, "around": true, "outside": true, "from": true}

// townAt is the listed town that starts at ws[i], as a place of the
// knowledge's region, when the words around it say it is a place: "in",
// "near", "from" right before it, words before it saying the writer or a
// relative is there ("living in", "my son at uni in"), or the town standing
// alone as the first or the last clause ("guelph. cant sleep", "... any
// tips? derby").
func (ix *index) townAt(ws []string, i int, starts map[int]bool) (place, bool) {
	for _, t := range townIndex()[ws[i]] {
		end := i + len(t.words)
		if end > len(ws) || !placeAt(ws[i:end], t.words) {
			continue
		}
		r, ok := ix.base.Region(t.region)
		if !ok {
			continue
		}
		alone := (i == 0 && (end == len(ws) || starts[end])) || (end == len(ws) && starts[i])
		// Only the words before it: "kratom filled the gap. now i want"
		// is no town followed by "now".
		sc, _ := whereNow(ws[:end], i, end)
		if (i > 0 && townBefore[ws[i-1]]) || sc > 0 || alone || relativeBefore(ws, i) {
			return place{t.words, r}, true
		}
	}
	return place{}, false
}
