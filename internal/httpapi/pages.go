package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/zwrm/secrets/internal/service"
)

// maxPageBytes bounds the rows of one list or effective answer, so that no
// answer passes 1 MiB whatever its rows hold (a page of 1,000 rows with
// the longest descriptions and names would be several). What is around
// the rows (field names, the layer, the cursor) is far smaller than the
// margin.
const maxPageBytes = 1<<20 - 16<<10

// pageOf reads ?limit= and ?cursor=; the service checks what they say.
func pageOf(r *http.Request) (service.PageRequest, error) {
	q := r.URL.Query()
	limit, err := service.ParseLimit(q.Get("limit"))
	if err != nil {
		return service.PageRequest{}, err
	}
	return service.PageRequest{Cursor: q.Get("cursor"), Limit: limit}, nil
}

// fitPage returns the rows of a page that fit in maxPageBytes as JSON, and
// the next cursor: the page's own when all fit, else one after the last
// row kept, so that the rest come in the next page. The first row always
// stays, so a page is never empty for its size.
func fitPage[T any](rows []T, next string, name func(T) string) ([]T, string, error) {
	size := 0
	for i, row := range rows {
		b, err := json.Marshal(row)
		if err != nil {
			return nil, "", err
		}
		size += len(b) + 1 // and a comma
		if size > maxPageBytes && i > 0 {
			return rows[:i], service.CursorAfter(name(rows[i-1])), nil
		}
	}
	return rows, next, nil
}

// pageAnswer is a page of a list: its rows under key, and next_cursor
// unless it is the last page, which then reads as the unpaged lists of
// the first version did ({"secrets":[]}).
func pageAnswer(key string, rows any, next string) map[string]any {
	out := map[string]any{key: rows}
	if next != "" {
		out["next_cursor"] = next
	}
	return out
}
