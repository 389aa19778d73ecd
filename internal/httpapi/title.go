package httpapi

import "strings"

// Title makes an identifier part of a lower-case name by capitalizing each
// of its dash-separated parts: "app" → "App", "resolve-direct" →
// "ResolveDirect". The route table names operations with it, and infra the
// constructs of each function.
func Title(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// title is Title, by the name the route table calls it.
func title(s string) string { return Title(s) }
