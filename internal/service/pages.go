package service

import (
	"encoding/base64"
	"strconv"

	"github.com/zwrm/secrets/internal/secrets"
)

// Page sizes of the list and effective reads: a page of the biggest rows
// still answers well under a Lambda's response limit, and a browser
// fetching 10,000 secrets makes ten or twenty requests.
const (
	DefaultPageLimit = 500
	MaxPageLimit     = 1000
)

// PageRequest asks for one page of a list in name order.
type PageRequest struct {
	// Cursor is "" for the first page, else the next cursor of the page
	// before: opaque to clients.
	Cursor string
	// Limit is the most secrets the page holds: 0 for DefaultPageLimit,
	// else 1 to MaxPageLimit.
	Limit int
}

// ParseLimit reads a limit as a query parameter gives it: "" is the
// default (0).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageLimit {
		return 0, limitError()
	}
	return n, nil
}

func limitError() error {
	return secrets.Invalid("limit", "must be a whole number from 1 to %d (leave it out for %d)", MaxPageLimit, DefaultPageLimit)
}

// CursorAfter is the cursor of the page that starts after name. A cursor
// is a position, not an offset: names created or deleted before it move
// nothing after it, so following cursors reads each name once.
func CursorAfter(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(name))
}

// parse validates p and returns the name the page starts after ("" for
// the first) and its limit.
func (p PageRequest) parse() (after string, limit int, err error) {
	switch {
	case p.Limit == 0:
		limit = DefaultPageLimit
	case p.Limit < 1 || p.Limit > MaxPageLimit:
		return "", 0, limitError()
	default:
		limit = p.Limit
	}
	if p.Cursor == "" {
		return "", limit, nil
	}
	name, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || secrets.ValidateName(string(name)) != nil {
		return "", 0, secrets.Invalid("cursor", "is not a cursor this API gave: pass the next_cursor of the previous page as it is, or leave cursor out for the first page")
	}
	return string(name), limit, nil
}
