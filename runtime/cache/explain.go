package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// A Miss explains why a Load computed: the key, and what differs from the closest key of
// its type stored before (by any process sharing the directory).
type Miss struct {
	Time    time.Time
	KeyType string         // the key's Go type, as %T prints it: compiler.Options
	Digest  keyhash.Digest // the key's digest
	// Reason is one line: the fields that changed from the closest stored key, by their
	// path as CACHEGEN_TRACE writes it ("Options.OptLevel 2 → 1, Options.Flags["-g"]
	// added (closest entry stored 3m ago)"), or "no entry of this key type yet", "same
	// key, stored by another program version", "same key, entry was damaged", "same key,
	// entry was evicted".
	Reason string
}

// String formats m as CACHEGEN_EXPLAIN prints it.
func (m Miss) String() string {
	return fmt.Sprintf("cachegen: miss %s %s…: %s", m.KeyType, m.Digest.String()[:12], m.Reason)
}

// explainEnv is the environment variable that prints every miss, explained, to stderr.
const explainEnv = "CACHEGEN_EXPLAIN"

// The files of the miss explainer, in a namespace directory: one record file per key type
// (the leaves of the keys stored lately), and the log of recent misses.
const (
	recordPrefix  = "explain-"
	missesFile    = "misses.txt"
	maxRecordFile = 128 << 10 // a record file past this keeps its newer half
	maxMissesFile = 64 << 10
	maxLeaves     = 1024 // leaves recorded per key; a larger key is recorded in part
)

// isRecordFile reports whether name is a record file of the explainer: explain-<16 hex>.txt.
func isRecordFile(name string) bool {
	hexPart, ok := strings.CutPrefix(name, recordPrefix)
	return ok && strings.HasSuffix(hexPart, ".txt") && isHex(strings.TrimSuffix(hexPart, ".txt"), 16)
}

// keyTypeOf names K for records (its full path, hashed into the record file's name) and for
// messages (as %T prints it).
func keyTypeOf[K any]() (id, shown string) {
	t := reflect.TypeFor[K]()
	shown = t.String()
	id = t.PkgPath() + "." + t.Name()
	if t.Name() == "" {
		id = shown
	}
	return id, shown
}

func (c *Cache) recordFile(typeID string) string {
	sum := sha256.Sum256([]byte(typeID))
	return filepath.Join(c.root, recordPrefix+hex.EncodeToString(sum[:8])+".txt")
}

// A record is what the explainer keeps of a stored key.
type record struct {
	digest  string
	time    time.Time
	version string // the version directory's name
	leaves  []keyhash.Leaf
}

// A record is what the explainer keeps of a stored key, as read back: its leaves stay in
// the file's bytes until the record is the one a miss is compared with.
type storedRecord struct {
	record
	body []byte // the record's leaf lines
}

// readRecords reads a record file; a damaged record is skipped.
func readRecords(name string) []storedRecord {
	b, err := readSmallUpTo(name, 4*maxRecordFile)
	if err != nil {
		return nil
	}
	var out []storedRecord
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		b = rest
		if head, ok := bytes.CutPrefix(line, []byte("@ ")); ok {
			parts := strings.Fields(string(head))
			var r storedRecord
			if len(parts) == 3 {
				ns, _ := strconv.ParseInt(parts[1], 10, 64)
				r.record = record{digest: parts[0], time: time.Unix(0, ns), version: parts[2]}
			}
			end := bytes.Index(b, []byte("\n@ "))
			if end < 0 {
				end = len(b)
			} else {
				end++
			}
			r.body, b = b[:end], b[end:]
			if r.digest != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// eachLeaf calls f for each well-formed leaf line of body: path, type, value.
func eachLeaf(body []byte, f func(path, typ, value []byte)) {
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		body = rest
		p, tv, ok1 := bytes.Cut(line, []byte("\t"))
		typ, v, ok2 := bytes.Cut(tv, []byte("\t"))
		if ok1 && ok2 {
			f(p, typ, v)
		}
	}
}

// leavesOf parses the leaves of a record.
func (r *storedRecord) leavesOf() []keyhash.Leaf {
	var out []keyhash.Leaf
	eachLeaf(r.body, func(p, typ, v []byte) {
		out = append(out, keyhash.Leaf{Path: string(p), Type: string(typ), Value: string(v)})
	})
	return out
}

// appendRecord records a stored key in its type's record file, keeping the file's newer
// half when it grows past maxRecordFile. It is best effort: an explanation is a hint.
func (c *Cache) appendRecord(name string, r record) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "@ %s %d %s\n", r.digest, r.time.UnixNano(), r.version)
	for i, l := range r.leaves {
		if i == maxLeaves {
			break
		}
		b.WriteString(clean(l.Path))
		b.WriteByte('\t')
		b.WriteString(clean(l.Type))
		b.WriteByte('\t')
		b.WriteString(clean(l.Value))
		b.WriteByte('\n')
	}
	appendBounded(name, b.Bytes(), maxRecordFile, "@ ")
}

// appendBounded appends data to the file name; when the file has grown past max, it is
// rewritten with its newer half, cut at a line starting with mark.
func appendBounded(name string, data []byte, max int64, mark string) {
	f, err := openAppend(name)
	if err != nil {
		return
	}
	f.Write(data)
	fi, err := f.Stat()
	f.Close()
	if err != nil || fi.Size() <= max {
		return
	}
	old, err := os.ReadFile(name)
	if err != nil || int64(len(old)) > 4*max {
		os.Remove(name)
		return
	}
	half := old[len(old)/2:]
	if i := bytes.Index(half, []byte("\n"+mark)); i >= 0 {
		half = half[i+1:]
	} else {
		half = nil
	}
	writeFileAtomic(name, half, false)
}

// clean keeps a field of a record on its line.
func clean(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// explain returns why the key of type typeID with digest d and leaves missed, against the
// records of its type. damaged says an entry file of this key was found and refused.
func (c *Cache) explain(recs []storedRecord, d string, leaves []keyhash.Leaf, damaged bool) string {
	if len(recs) == 0 {
		return "no entry of this key type yet"
	}
	version := filepath.Base(c.versionDir)
	for i := len(recs) - 1; i >= 0; i-- {
		if r := recs[i]; r.digest == d {
			switch {
			case damaged:
				return "same key, entry was damaged"
			case r.version != version:
				return "same key, stored by another program version"
			}
			return "same key, entry was evicted"
		}
	}
	if damaged {
		return "same key, entry was damaged"
	}
	now := make(map[string]string, len(leaves))
	for _, l := range leaves {
		now[l.Path] = l.Value
	}
	best, score := -1, -1
	for i := range recs {
		n := 0
		eachLeaf(recs[i].body, func(p, _, v []byte) {
			if w, ok := now[string(p)]; ok && w == string(v) {
				n++
			}
		})
		if n >= score { // the newest of equals
			best, score = i, n
		}
	}
	r := recs[best]
	changes := diffLeaves(r.leavesOf(), leaves)
	const shown = 4
	text := strings.Join(changes[:min(len(changes), shown)], ", ")
	if len(changes) > shown {
		text += fmt.Sprintf(", and %d more", len(changes)-shown)
	}
	if text == "" {
		text = "a change beyond the recorded fields"
	}
	if r.version != version {
		text += ", and another program version"
	}
	return fmt.Sprintf("%s (closest entry stored %s ago)", text, age(c.now().Sub(r.time)))
}

// diffLeaves lists what changed from old to now, in now's order, then what was removed:
// "P old → new", "P added", "P removed".
func diffLeaves(old, now []keyhash.Leaf) []string {
	before := make(map[string]string, len(old))
	for _, l := range old {
		before[l.Path] = l.Value
	}
	seen := make(map[string]bool, len(now))
	var out []string
	for _, l := range now {
		seen[l.Path] = true
		switch v, ok := before[l.Path]; {
		case !ok:
			out = append(out, l.Path+" added")
		case v != l.Value:
			out = append(out, fmt.Sprintf("%s %s → %s", l.Path, v, l.Value))
		}
	}
	for _, l := range old {
		if !seen[l.Path] {
			out = append(out, l.Path+" removed")
		}
	}
	return out
}

// age rounds d for a message: 3m, 2h, 5d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// reportMiss hands m to Options.OnMiss, prints it when CACHEGEN_EXPLAIN=1, and appends it to
// the namespace's log of recent misses.
func (c *Cache) reportMiss(m Miss) {
	if c.opts.OnMiss != nil {
		c.opts.OnMiss(m)
	}
	if c.explainStderr {
		fmt.Fprintln(os.Stderr, m.String())
	}
	if !c.diskOff.Load() {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\n", m.Time.Format(time.RFC3339), clean(m.KeyType), m.Digest, clean(m.Reason))
		appendBounded(filepath.Join(c.root, missesFile), []byte(line), maxMissesFile, "")
	}
}

// RecentMisses returns the misses explained lately in the namespace of dir (or in every
// namespace when namespace is ""), oldest first, at most n of them (all when n <= 0): the
// log that Loads write when explaining (CACHEGEN_EXPLAIN=1 or Options.OnMiss).
func RecentMisses(dir, namespace string, n int) ([]Miss, error) {
	if err := checkDir(dir, namespace); err != nil {
		return nil, err
	}
	nss, err := namespaces(dir, namespace)
	if err != nil {
		return nil, err
	}
	var out []Miss
	for _, ns := range nss {
		b, err := readSmallUpTo(filepath.Join(dir, ns, missesFile), 4*maxMissesFile)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			parts := strings.SplitN(line, "\t", 4)
			if len(parts) != 4 {
				continue
			}
			t, err1 := time.Parse(time.RFC3339, parts[0])
			d, err2 := hex.DecodeString(parts[2])
			if err1 != nil || err2 != nil || len(d) != len(keyhash.Digest{}) {
				continue
			}
			out = append(out, Miss{Time: t, KeyType: parts[1], Digest: keyhash.Digest(d), Reason: parts[3]})
		}
	}
	sortMisses(out)
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

func sortMisses(m []Miss) {
	slices.SortStableFunc(m, func(a, b Miss) int { return a.Time.Compare(b.Time) })
}
