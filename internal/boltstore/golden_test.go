package boltstore_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/storegolden"
)

var update = flag.Bool("update", false, "rewrite the golden files from what the store writes")

// goldenFile holds every bucket entry the store writes for
// storegolden.Records: an org with and without settings, secret heads at
// each layer (with and without values and a rotation policy), the id
// index, history (a value masked before mask rules were numbered
// included), tokens of each kind (one revoked) and the org token index,
// a data key, audit records with and without an expiry and manifest, an
// audit manifest, and the rotation and audit expiry indexes. It is the
// file format: a change to it is a change to every bbolt file in use.
const goldenFile = "testdata/records.golden"

// TestStoredBytesAreGolden writes one record of each kind and compares
// every stored key and value, byte for byte, with the golden file.
func TestStoredBytesAreGolden(t *testing.T) {
	st := openNew(t)
	storegolden.Write(t.Context(), t, st, storegolden.Records())
	entries, err := boltstore.Dump(st)
	if err != nil {
		t.Fatal(err)
	}
	got := formatEntries(entries)
	storegolden.Compare(t, goldenFile, got, *update)
}

// TestGoldenBytesReadBack loads the golden file into an empty database
// and reads every record back through the store: a file written by this
// format opens as it was written.
func TestGoldenBytesReadBack(t *testing.T) {
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parseEntries(data)
	if err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	st := openNew(t)
	if err := boltstore.Load(st, entries); err != nil {
		t.Fatal(err)
	}
	storegolden.Check(t.Context(), t, st, storegolden.Records())
}

// formatEntries writes each entry as two lines: "key: BUCKET QUOTED-KEY"
// and "val: VALUE", the value as stored (JSON, or empty for an index
// entry), or "valq: QUOTED-VALUE" for a value holding control characters
// (a key in the id index).
func formatEntries(entries []boltstore.Entry) []byte {
	var b bytes.Buffer
	for _, e := range entries {
		fmt.Fprintf(&b, "key: %s %s\n", e.Bucket, strconv.Quote(string(e.Key)))
		if v := string(e.Value); utf8.ValidString(v) && strings.IndexFunc(v, unicode.IsControl) < 0 {
			fmt.Fprintf(&b, "val: %s\n", v)
		} else {
			fmt.Fprintf(&b, "valq: %s\n", strconv.Quote(v))
		}
	}
	return b.Bytes()
}

func parseEntries(data []byte) ([]boltstore.Entry, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines)%2 != 0 {
		return nil, fmt.Errorf("%d lines, not pairs of key and value", len(lines))
	}
	var out []boltstore.Entry
	for i := 0; i < len(lines); i += 2 {
		k, ok1 := strings.CutPrefix(lines[i], "key: ")
		v, ok2 := strings.CutPrefix(lines[i+1], "val: ")
		var verr error
		if q, ok := strings.CutPrefix(lines[i+1], "valq: "); ok {
			v, ok2 = "", true
			v, verr = strconv.Unquote(q)
		}
		bucket, quoted, ok3 := strings.Cut(k, " ")
		key, err := strconv.Unquote(quoted)
		if !ok1 || !ok2 || !ok3 || err != nil || verr != nil {
			return nil, fmt.Errorf("line %d: malformed entry", i+1)
		}
		e := boltstore.Entry{Bucket: []byte(bucket), Key: []byte(key)}
		if v != "" {
			e.Value = []byte(v)
		}
		out = append(out, e)
	}
	return out, nil
}

// TestRecordsAreTheStoresOwn: the file format is the stores' record
// types alone (package records, built of no domain type), encoded in
// records.go only, whose encoder takes nothing else: a domain type never
// reaches it, so a change of the domain changes no stored byte by itself.
func TestRecordsAreTheStoresOwn(t *testing.T) {
	storegolden.CheckEncodingIn(t, ".", "records.go", "encoding/json")
}
