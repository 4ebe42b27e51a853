package bots

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/kratombot/kratombot/knowledge"
)

// Training the models is most of what a start or a reload costs. The same
// knowledge always trains the same models, so they are kept by the
// knowledge's content hash: in this process (a reload first checks the new
// knowledge on one engine, then swaps it into another), and, when a cache
// folder is set, on disk for the next start. A cached model holds only what
// the knowledge says, never anything a person wrote.

// modelRecipe changes whenever anything that shapes a model does, so a cache
// written by another version is never read as this one's. Its version goes
// up when the code that reads text changes (normalising, tokens, typos).
var modelRecipe = fmt.Sprintf("v4|%v|%v|%v|%d|%d|%d", topicTraining, crisisTraining, groupWeight, maxModelTopics, maxOrdinary, minExamples)

var modelMemo struct {
	sync.Mutex
	dir  string
	keys []string // the two most recent
	m    map[string]*savedModels
}

// SetModelCache sets the folder where trained models are kept between
// starts; empty keeps them in memory only. A folder that cannot be written
// only costs the training time.
func SetModelCache(dir string) {
	modelMemo.Lock()
	defer modelMemo.Unlock()
	modelMemo.dir = dir
}

// modelKey is "" for a knowledge base with no content hash (built by
// hand, not loaded), which is never cached.
func modelKey(b *knowledge.Base) string {
	if b.Version == "" {
		return ""
	}
	h := sha256.Sum256([]byte(b.Version + "|" + modelRecipe))
	return hex.EncodeToString(h[:12])
}

// savedModels is models in a form gob can write.
type savedModels struct {
	Topics, Crisis          *savedLinear
	OffTopic, NoCrisis      int
	LearnedOffTopic         bool
	CrisisExact, TopicExact map[string]int
	Known                   []string // example stems, for typo correction
}

// savedLinear keeps the feature keys and weights as little-endian bytes:
// gob writes a []float32 one number at a time, and reading megabytes of
// them back was a quarter of a cached start.
type savedLinear struct {
	Keys    []byte // feature key of each row, 8 bytes each
	W       []byte // rows x classes weights, 4 bytes each
	Bias    []float32
	Classes int
}

func saveLinear(m *linearModel) *savedLinear {
	if m == nil {
		return nil
	}
	s := &savedLinear{Keys: make([]byte, 8*m.ids.len()), W: make([]byte, 4*len(m.w)), Bias: m.bias, Classes: m.classes}
	m.ids.each(func(k uint64, id int32) {
		binary.LittleEndian.PutUint64(s.Keys[8*id:], k)
	})
	for i, w := range m.w {
		binary.LittleEndian.PutUint32(s.W[4*i:], math.Float32bits(w))
	}
	return s
}

func (s *savedLinear) model() *linearModel {
	if s == nil {
		return nil
	}
	rows := len(s.Keys) / 8
	m := &linearModel{ids: newFeatureRows(rows), w: make([]float32, len(s.W)/4), bias: s.Bias, classes: s.Classes}
	for id := 0; id < rows; id++ {
		m.ids.set(binary.LittleEndian.Uint64(s.Keys[8*id:]), int32(id))
	}
	for i := range m.w {
		m.w[i] = math.Float32frombits(binary.LittleEndian.Uint32(s.W[4*i:]))
	}
	return m
}

// cachedModels returns the models for b if this process or the cache folder
// has them.
func cachedModels(key string) *savedModels {
	if key == "" {
		return nil
	}
	modelMemo.Lock()
	defer modelMemo.Unlock()
	if s, ok := modelMemo.m[key]; ok {
		return s
	}
	if modelMemo.dir == "" {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(modelMemo.dir, "models-"+key+".bin"))
	if err != nil {
		return nil
	}
	s, ok := decodeModels(data)
	if !ok || !s.valid() {
		return nil // a damaged or foreign file: train instead
	}
	remember(key, s)
	return s
}

// The file is a magic word, the small parts of savedModels in gob, and then
// each linear model's numbers as they lie in memory (little-endian). Gob
// copied the megabytes of weights twice more on the way in, which was a
// seventh of a cached start; read this way they are sliced from the file.
const modelMagic = "kbmodel3"

func encodeModels(s *savedModels) ([]byte, error) {
	small := *s
	small.Topics, small.Crisis = nil, nil
	var meta bytes.Buffer
	if err := gob.NewEncoder(&meta).Encode(&small); err != nil {
		return nil, err
	}
	out := append([]byte(modelMagic), binary.LittleEndian.AppendUint64(nil, uint64(meta.Len()))...)
	out = append(out, meta.Bytes()...)
	for _, l := range []*savedLinear{s.Topics, s.Crisis} {
		if l == nil {
			out = binary.LittleEndian.AppendUint64(out, 0)
			continue
		}
		out = binary.LittleEndian.AppendUint64(out, uint64(l.Classes))
		out = binary.LittleEndian.AppendUint64(out, uint64(len(l.Keys)))
		out = binary.LittleEndian.AppendUint64(out, uint64(len(l.W)))
		for _, b := range l.Bias {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(b))
		}
		out = append(out, l.Keys...)
		out = append(out, l.W...)
	}
	return out, nil
}

// decodeModels reads what encodeModels wrote; ok is false for anything
// short, long or foreign, so a damaged file is trained over, never trusted.
func decodeModels(data []byte) (s *savedModels, ok bool) {
	next := func(n uint64) []byte {
		if n > uint64(len(data)) {
			ok = false
			return nil
		}
		b := data[:n]
		data = data[n:]
		return b
	}
	u64 := func() uint64 {
		if b := next(8); b != nil {
			return binary.LittleEndian.Uint64(b)
		}
		return 0
	}
	ok = true
	if string(next(uint64(len(modelMagic)))) != modelMagic {
		return nil, false
	}
	meta := next(u64())
	if !ok {
		return nil, false
	}
	s = &savedModels{}
	if gob.NewDecoder(bytes.NewReader(meta)).Decode(s) != nil {
		return nil, false
	}
	for _, dst := range []**savedLinear{&s.Topics, &s.Crisis} {
		classes := u64()
		if !ok || classes == 0 {
			continue
		}
		l := &savedLinear{Classes: int(min(classes, 1<<30))}
		keys, w := u64(), u64()
		bias := next(4 * min(classes, 1<<30))
		l.Keys, l.W = next(keys), next(w)
		if !ok {
			return nil, false
		}
		l.Bias = make([]float32, len(bias)/4)
		for i := range l.Bias {
			l.Bias[i] = math.Float32frombits(binary.LittleEndian.Uint32(bias[4*i:]))
		}
		*dst = l
	}
	return s, ok && len(data) == 0
}

// valid checks that a decoded model is whole, so a damaged file can never
// index out of range while answering.
func (s *savedModels) valid() bool {
	for _, l := range []*savedLinear{s.Topics, s.Crisis} {
		if l != nil && (l.Classes <= 0 || len(l.Bias) != l.Classes || len(l.Keys)%8 != 0 || len(l.W) != len(l.Keys)/2*l.Classes) {
			return false
		}
	}
	return s.Crisis == nil || s.Crisis.Classes == s.NoCrisis+1
}

// storeModels keeps freshly trained models in memory and, when a folder is
// set, on disk (written to a temporary name, then renamed, so a reader never
// sees half a file).
func storeModels(key string, s *savedModels) {
	if key == "" {
		return
	}
	modelMemo.Lock()
	defer modelMemo.Unlock()
	remember(key, s)
	if modelMemo.dir == "" {
		return
	}
	data, err := encodeModels(s) // not compressed: reading it back is the point, and gzip triples that
	if err != nil {
		return
	}
	if os.MkdirAll(modelMemo.dir, 0o700) != nil {
		return
	}
	f, err := os.CreateTemp(modelMemo.dir, "models-*.tmp")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), filepath.Join(modelMemo.dir, "models-"+key+".bin")) != nil {
		os.Remove(f.Name())
		return
	}
	pruneCache(modelMemo.dir, key)
}

// keepCached is how many model files the cache folder keeps: each edit of
// the knowledge trains a new one of several megabytes, and only the newest
// (this version, and the one a revert would go back to) are worth keeping.
const keepCached = 3

// pruneCache removes all but the newest keepCached model files, never the
// one just written.
func pruneCache(dir, key string) {
	// models-*.gob is the format before v3.
	knowledge.PruneCache(dir, filepath.Join(dir, "models-"+key+".bin"), keepCached, "models-*.bin", "models-*.gob")
}

// remember keeps the two most recent models in memory; the caller holds
// the lock.
func remember(key string, s *savedModels) {
	if modelMemo.m == nil {
		modelMemo.m = map[string]*savedModels{}
	}
	if _, ok := modelMemo.m[key]; !ok {
		modelMemo.keys = append(modelMemo.keys, key)
		if len(modelMemo.keys) > 2 {
			delete(modelMemo.m, modelMemo.keys[0])
			modelMemo.keys = modelMemo.keys[1:]
		}
	}
	modelMemo.m[key] = s
}
