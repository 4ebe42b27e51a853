package knowledge

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Reading and checking the YAML is most of a start once the models are
// cached, and all of it for a large knowledge base. The same files always
// give the same checked Base, so a Base that passed every check is kept on
// disk by the files' content and read back on the next start. Only a Base
// without errors is kept: a broken edit is checked in full every time, so
// its file:line problems are never skipped.

// cacheRecipe changes when what a Base holds or how it is checked does. The
// executable's identity is part of the key as well, so a rebuilt binary
// never reads what an older one checked even if this is not changed.
const cacheRecipe = "knowledge-v2"

// keepCachedBases is how many checked knowledge files the folder keeps: this
// version and the one a revert would go back to.
const keepCachedBases = 3

var baseCache struct {
	sync.Mutex
	dir string
}

// SetCache sets the folder where checked knowledge is kept between starts;
// empty keeps nothing. A folder that cannot be written only costs the time
// of checking again.
func SetCache(dir string) {
	baseCache.Lock()
	defer baseCache.Unlock()
	baseCache.dir = dir
}

func cacheDir() string {
	baseCache.Lock()
	defer baseCache.Unlock()
	return baseCache.dir
}

var executable = sync.OnceValue(func() string {
	path, err := os.Executable()
	if err != nil {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s|%d|%d", path, st.Size(), st.ModTime().UnixNano())
})

// cacheKey names the checked Base of these files, read from dir by this
// binary on this day; "" when the binary cannot be told apart, which caches
// nothing.
func cacheKey(dir string, content []byte) string {
	exe := executable()
	if exe == "" {
		return ""
	}
	h := sha256.New()
	// The day too: review dates are checked against it.
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", cacheRecipe, exe, now().Format(time.DateOnly), dir)
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// cachedBase is what the file holds: the Base and what gob cannot see.
type cachedBase struct {
	Base                    *Base
	NotCrisisAt, OffTopicAt []Position
}

func cachePath(dir, key string) string {
	return filepath.Join(dir, "knowledge-"+key+".gob")
}

// readCachedBase returns the checked Base for key, or nil when there is none
// or it cannot be read whole.
func readCachedBase(key string) *Base {
	dir := cacheDir()
	if dir == "" || key == "" {
		return nil
	}
	data, err := os.ReadFile(cachePath(dir, key))
	if err != nil {
		return nil
	}
	var c cachedBase
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&c) != nil || c.Base == nil || c.Base.Version == "" || len(c.Base.Topics) == 0 || len(c.Base.Regions) == 0 {
		return nil
	}
	b := c.Base
	b.notCrisisAt, b.offTopicAt = c.NotCrisisAt, c.OffTopicAt
	b.index()
	return b
}

// storeBase writes a checked Base under key: to a temporary name, then
// renamed, so a reader never sees half a file.
func storeBase(key string, b *Base) {
	dir := cacheDir()
	if dir == "" || key == "" {
		return
	}
	var buf bytes.Buffer
	if gob.NewEncoder(&buf).Encode(cachedBase{Base: b, NotCrisisAt: b.notCrisisAt, OffTopicAt: b.offTopicAt}) != nil {
		return
	}
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	f, err := os.CreateTemp(dir, "knowledge-*.tmp")
	if err != nil {
		return
	}
	_, werr := f.Write(buf.Bytes())
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), cachePath(dir, key)) != nil {
		os.Remove(f.Name())
		return
	}
	pruneBases(dir, key)
}

// pruneBases removes all but the newest keepCachedBases checked knowledge
// files, never the one just written.
func pruneBases(dir, key string) {
	PruneCache(dir, cachePath(dir, key), keepCachedBases, "knowledge-*.gob")
}

// PruneCache removes from the cache folder dir all but the newest keep
// files matching the patterns, never current (the one just written). The
// checked knowledge and the models trained from it share the folder, and
// each kind keeps its own few.
func PruneCache(dir, current string, keep int, patterns ...string) {
	type aged struct {
		path string
		mod  time.Time
	}
	var old []aged
	for _, pattern := range patterns {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range files {
			if f == current {
				continue
			}
			if st, err := os.Stat(f); err == nil {
				old = append(old, aged{f, st.ModTime()})
			}
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod.After(old[j].mod) })
	for i := keep - 1; i < len(old); i++ {
		os.Remove(old[i].path)
	}
}

// FieldPositions is where each YAML key of one entry stands, with "key.N"
// for a list's items and "key.text" for a block of text.
type FieldPositions map[string]Position

// GobEncode writes the positions compactly for the cache: gob's own way
// with a map reads every entry by reflection, and a large base holds
// hundreds of thousands of them. The file name is written once; an entry
// in the same file (always, today) stores an empty name.
func (fp FieldPositions) GobEncode() ([]byte, error) {
	if fp == nil {
		return nil, nil
	}
	keys := make([]string, 0, len(fp))
	for k := range fp {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same positions always write the same bytes
	file := ""
	if len(keys) > 0 {
		file = fp[keys[0]].File
	}
	out := []byte{1} // 1: a map, even an empty one
	out = appendString(out, file)
	out = binary.AppendUvarint(out, uint64(len(keys)))
	for _, k := range keys {
		p := fp[k]
		out = appendString(out, k)
		f := p.File
		if f == file {
			f = ""
		}
		out = appendString(out, f)
		out = binary.AppendVarint(out, int64(p.Line))
		out = binary.AppendVarint(out, int64(p.Col))
	}
	return out, nil
}

// GobDecode reads what GobEncode wrote.
func (fp *FieldPositions) GobDecode(data []byte) error {
	if len(data) == 0 {
		*fp = nil
		return nil
	}
	r := positionReader{data: data[1:]}
	file := r.string()
	n := r.uvarint()
	if r.err != nil || n > uint64(len(data)) {
		return errDamagedPositions
	}
	m := make(FieldPositions, n)
	for range n {
		k, f := r.string(), r.string()
		line, col := r.varint(), r.varint()
		if r.err != nil {
			return r.err
		}
		if f == "" {
			f = file
		}
		m[k] = Position{File: f, Line: int(line), Col: int(col)}
	}
	*fp = m
	return nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errDamagedPositions is why a cache file's positions were refused; the
// start then checks the files again.
var errDamagedPositions = errors.New("knowledge cache: damaged positions")

// positionReader reads FieldPositions' bytes; its first error sticks.
type positionReader struct {
	data []byte
	err  error
}

// advance moves past n bytes just read; n <= 0 means they could not be.
func (r *positionReader) advance(n int) {
	if n <= 0 || n > len(r.data) {
		r.err, r.data = errDamagedPositions, nil
		return
	}
	r.data = r.data[n:]
}

func (r *positionReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.data)
	r.advance(n)
	return v
}

func (r *positionReader) varint() int64 {
	v, n := binary.Varint(r.data)
	r.advance(n)
	return v
}

func (r *positionReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.data)) {
		r.err = errDamagedPositions
		return ""
	}
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}
