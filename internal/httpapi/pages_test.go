package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// maxAnswer is the most any list or effective answer may weigh.
const maxAnswer = 1 << 20

// seedSecrets stores a secret for each name at layer straight into the
// store: the lists read heads and never open a value, and 10,000 creates
// through the API would take minutes. Each holds a value's mask in every
// environment, as a secret set through the API would.
func seedSecrets(tb testing.TB, e *env, org string, layer secrets.Layer, description string, names []string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	owner := secrets.Principal{Subject: "root@acme.test", Name: "Root"}
	values := map[secrets.Environment]secrets.SealedValue{}
	for _, env := range secrets.Environments {
		values[env] = secrets.SealedValue{Ciphertext: make([]byte, 60), Mask: "sk_live_***RgA1", MaskRule: secrets.MaskRule}
	}
	for _, name := range names {
		s := &secrets.Secret{ID: uuid.NewString(), Org: org, Layer: layer, Name: name, Description: description,
			Values: values, Owner: owner, CreatedAt: now, UpdatedAt: now, UpdatedBy: owner, Version: 1, Change: "create"}
		if err := e.store.CreateSecret(ctx, s); err != nil {
			tb.Fatalf("seed %s at %s: %v", name, layer, err)
		}
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

// pageStats is what following one list's pages saw.
type pageStats struct {
	names    []string
	pages    int
	maxBytes int
	total    int
}

// followPages reads every page of path (which has a query already) with
// limit ("" for the default), checking that no answer passes maxAnswer,
// that a page holds no more than its limit, and that names come in
// strictly ascending order across pages: so each once.
func followPages(t *testing.T, e *env, token, path, limit string) pageStats {
	t.Helper()
	var st pageStats
	cursor := ""
	for {
		if st.pages > 20000 {
			t.Fatalf("%s: more than 20000 pages", path)
		}
		q := url.Values{}
		if limit != "" {
			q.Set("limit", limit)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		r := e.do(t, "GET", path+sep+q.Encode(), token, nil)
		wantStatus(t, r, 200)
		st.pages++
		st.total += len(r.Body)
		st.maxBytes = max(st.maxBytes, len(r.Body))
		if len(r.Body) > maxAnswer {
			t.Errorf("%s page %d: %d bytes, over 1 MiB", path, st.pages, len(r.Body))
		}
		page := decode[struct {
			Secrets []struct {
				Name string `json:"name"`
			} `json:"secrets"`
			NextCursor *string `json:"next_cursor"`
		}](t, r)
		if want := 500; limit == "" && len(page.Secrets) > want {
			t.Errorf("%s page %d: %d secrets, more than the default limit %d", path, st.pages, len(page.Secrets), want)
		}
		for _, s := range page.Secrets {
			if n := len(st.names); n > 0 && s.Name <= st.names[n-1] {
				t.Fatalf("%s page %d: %s after %s: out of order or seen twice", path, st.pages, s.Name, st.names[n-1])
			}
			st.names = append(st.names, s.Name)
		}
		if page.NextCursor == nil {
			return st
		}
		if *page.NextCursor == "" {
			t.Fatalf("%s page %d: next_cursor is present but empty; the last page leaves it out", path, st.pages)
		}
		cursor = *page.NextCursor
	}
}

func TestListsAnswerInPagesOfAtMostOneMiB(t *testing.T) {
	e, super := newAcme(t)
	big := secrets.Layer{App: "big"}
	bigNames := numbered("SECRET_", 10000)
	seedSecrets(t, e, "acme", big, "the database password of the billing service", bigNames)
	// Some global secrets under the same names, so that effective entries
	// carry what they override.
	var globalNames []string
	for i := 0; i < len(bigNames); i += 25 {
		globalNames = append(globalNames, bigNames[i])
	}
	seedSecrets(t, e, "acme", secrets.Global, "shared", globalNames)

	// Each list of the big layer at the largest page, where answers are
	// heaviest, and at the default; the small global lists also a few
	// names at a time.
	for _, tc := range []struct {
		path   string
		limits []string
		want   []string
	}{
		{"/v1/secrets?app=big", []string{"", "1000"}, bigNames},
		{"/v1/apps/big/secrets", []string{"1000"}, bigNames},
		{"/v1/effective?environment=production&app=big", []string{"1000"}, bigNames},
		{"/v1/effective?environment=development&app=big&machine=m1", []string{""}, bigNames},
		{"/v1/secrets", []string{"", "7"}, globalNames},
		{"/v1/org/secrets", []string{"", "7"}, globalNames},
		{"/v1/apps/big/machines/m1/secrets", []string{""}, nil},
	} {
		for _, limit := range tc.limits {
			t.Run(fmt.Sprintf("%s with limit %q lists every name once, in order, each answer at most 1 MiB", tc.path, limit), func(t *testing.T) {
				st := followPages(t, e, super, tc.path, limit)
				if !slices.Equal(st.names, tc.want) {
					t.Errorf("pages gave %d names, want %d", len(st.names), len(tc.want))
				}
				t.Logf("%s limit %q: %d pages, largest %d bytes, %d in all", tc.path, limit, st.pages, st.maxBytes, st.total)
			})
		}
	}
	t.Run("a page of the widest rows stops short of 1 MiB and the next page goes on", func(t *testing.T) {
		// The longest description, of characters JSON writes as six bytes
		// each: 1,000 such rows would be about 6 MB.
		wide := numbered("WIDE_", 400)
		seedSecrets(t, e, "acme", secrets.Layer{App: "wide"}, strings.Repeat("\x01", secrets.MaxDescriptionLen), wide)
		st := followPages(t, e, super, "/v1/secrets?app=wide", "1000")
		if !slices.Equal(st.names, wide) {
			t.Errorf("pages gave %d names, want %d", len(st.names), len(wide))
		}
		if st.pages < 2 {
			t.Errorf("%d page for %d bytes of rows, want them split", st.pages, st.total)
		}
		t.Logf("wide rows: %d pages, largest %d bytes", st.pages, st.maxBytes)
	})
}

func TestPagesHoldTheirPlaceWhileSecretsComeAndGo(t *testing.T) {
	e, super := newAcme(t)
	names := numbered("S", 30)
	for _, name := range names {
		r := e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": name, "app": "web", "values": map[string]string{"production": "value-of-" + name}})
		wantStatus(t, r, 201)
	}
	for _, path := range []string{"/v1/secrets?app=web", "/v1/apps/web/secrets?", "/v1/effective?environment=production&app=web"} {
		t.Run(path+": a name created or deleted between pages moves no other, and shows at most once", func(t *testing.T) {
			first := decode[struct {
				Secrets []struct {
					Name string `json:"name"`
				} `json:"secrets"`
				NextCursor string `json:"next_cursor"`
			}](t, e.do(t, "GET", path+"&limit=10", super, nil))
			if len(first.Secrets) != 10 || first.NextCursor == "" {
				t.Fatalf("first page: %d secrets, next %q", len(first.Secrets), first.NextCursor)
			}
			last := first.Secrets[9].Name
			// One name lands before the position, one after it, and the
			// position's own name and one ahead are deleted.
			before, after := "S00005_NEW", "S00020_NEW"
			for _, name := range []string{before, after} {
				wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", super, map[string]string{"name": name, "value": "value-of-" + name}), 201)
			}
			for _, name := range []string{last, "S00015"} {
				wantStatus(t, e.do(t, "DELETE", "/v1/apps/web/secrets/"+name, super, nil), 204)
			}
			var seen []string
			for _, s := range first.Secrets {
				seen = append(seen, s.Name)
			}
			cursor := first.NextCursor
			for cursor != "" {
				page := decode[struct {
					Secrets []struct {
						Name string `json:"name"`
					} `json:"secrets"`
					NextCursor string `json:"next_cursor"`
				}](t, e.do(t, "GET", path+"&limit=10&cursor="+url.QueryEscape(cursor), super, nil))
				for _, s := range page.Secrets {
					seen = append(seen, s.Name)
				}
				cursor = page.NextCursor
			}
			want := slices.Concat(names[:10], names[10:15], names[16:20], []string{"S00020", "S00020_NEW"}, names[21:])
			if !slices.Equal(seen, want) {
				t.Errorf("names across the pages:\n%v\nwant\n%v", seen, want)
			}
			// Put things back for the next path.
			for _, name := range []string{before, after} {
				wantStatus(t, e.do(t, "DELETE", "/v1/apps/web/secrets/"+name, super, nil), 204)
			}
			for _, name := range []string{last, "S00015"} {
				wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", super, map[string]string{"name": name, "value": "value-of-" + name}), 201)
			}
		})
	}
}

func TestPageParametersAreChecked(t *testing.T) {
	e, super := newAcme(t)
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", super, map[string]string{"name": "ONE", "value": "value-one"}), 201)
	paths := []string{"/v1/secrets?app=web", "/v1/org/secrets?", "/v1/apps/web/secrets?", "/v1/apps/web/machines/m1/secrets?",
		"/v1/effective?environment=production&app=web"}
	for _, path := range paths {
		for _, limit := range []string{"0", "-1", "1001", "ten", "2.5", "1e3"} {
			t.Run(path+" refuses limit="+limit+", naming the field", func(t *testing.T) {
				r := e.do(t, "GET", path+"&limit="+url.QueryEscape(limit), super, nil)
				if got := wantError(t, r, 400, "invalid", "1 to 1000"); got.Field != "limit" {
					t.Errorf("field = %q, want limit", got.Field)
				}
			})
		}
		for _, limit := range []string{"1", "1000"} {
			t.Run(path+" takes limit="+limit, func(t *testing.T) {
				wantStatus(t, e.do(t, "GET", path+"&limit="+limit, super, nil), 200)
			})
		}
		for _, cursor := range []string{
			"not a cursor",
			"%%%",
			base64.StdEncoding.EncodeToString([]byte("ONE?")), // not base64url
			base64.RawURLEncoding.EncodeToString([]byte("../../tokens")),
			base64.RawURLEncoding.EncodeToString([]byte("")) + "=",
			base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("A", secrets.MaxNameLen+1))),
		} {
			t.Run(path+" refuses a cursor it did not give: "+cursor, func(t *testing.T) {
				r := e.do(t, "GET", path+"&cursor="+url.QueryEscape(cursor), super, nil)
				if got := wantError(t, r, 400, "invalid", "next_cursor"); got.Field != "cursor" {
					t.Errorf("field = %q, want cursor", got.Field)
				}
			})
		}
		t.Run(path+" reads a cursor edited to another name as a position after that name, and nothing more", func(t *testing.T) {
			for cursor, want := range map[string]int{"A": 1, "ONE": 0, "ZZZ": 0} {
				r := e.do(t, "GET", path+"&cursor="+base64.RawURLEncoding.EncodeToString([]byte(cursor)), super, nil)
				wantStatus(t, r, 200)
				var page map[string]json.RawMessage
				if err := json.Unmarshal(r.Body, &page); err != nil {
					t.Fatal(err)
				}
				var rows []json.RawMessage
				_ = json.Unmarshal(page["secrets"], &rows)
				if strings.Contains(path, "/web/secrets?") || strings.Contains(path, "app=web") {
					if got := len(rows); got != want {
						t.Errorf("after %s: %d rows, want %d", cursor, got, want)
					}
				}
			}
		})
	}
}
