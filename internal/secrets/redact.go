package secrets

import "regexp"

// tokenLike is anything shaped like a zwrm token (zwrm_u_…, zwrm_s_…). It
// is deliberately broad: a name that merely starts like a token is hidden
// too, which costs a clearer message and never leaks a token.
var tokenLike = regexp.MustCompile(`zwrm_[A-Za-z0-9_-]+`)

// LooksLikeToken reports whether s holds something shaped like a zwrm
// token, for callers that refuse to send one where an id goes.
func LooksLikeToken(s string) bool { return tokenLike.MatchString(s) }

// RedactTokens replaces anything shaped like a zwrm token in s. A message
// may echo a path segment or a key, and a token pasted by mistake where an
// id goes (DELETE /v1/tokens/zwrm_u_…) must come back neither in an answer
// nor in a log that ends up in CI output.
func RedactTokens(s string) string {
	return tokenLike.ReplaceAllLiteralString(s, "zwrm_…(redacted)")
}
