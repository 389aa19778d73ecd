package main

import (
	"fmt"
	"strings"

	"github.com/zwrm/secrets/internal/secrets"
)

// dotenvEntry is one NAME=VALUE of a .env file.
type dotenvEntry struct {
	name, value string
	line        int
}

// parseDotenv reads a .env file:
//
//   - blank lines and lines starting with # are skipped; a leading
//     "export " is ignored; names follow the secret naming rule;
//   - NAME=value: an unquoted value ends at the end of the line or at a #
//     that follows whitespace, and is trimmed; = and # elsewhere are kept;
//   - NAME='value': literal up to the next ', newlines included;
//   - NAME="value": up to the next unescaped ", newlines included, with the
//     escapes \n \r \t \\ \" \$ \' and \` (any other \x is kept as is);
//   - after a closing quote, only whitespace or a # comment may follow.
//
// Variables ($NAME) are not expanded. A name given twice keeps its last
// value. Errors give the line number and never quote a value.
func parseDotenv(src string) ([]dotenvEntry, error) {
	p := &dotenvParser{s: strings.TrimPrefix(src, "\uFEFF"), line: 1}
	var out []dotenvEntry
	index := map[string]int{}
	for {
		p.skipSpace(true)
		if p.eof() {
			return out, nil
		}
		if p.peek() == '#' {
			p.skipLine()
			continue
		}
		line := p.line
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		value, err := p.value()
		if err != nil {
			return nil, err
		}
		if i, ok := index[name]; ok {
			out[i] = dotenvEntry{name: name, value: value, line: line}
			continue
		}
		index[name] = len(out)
		out = append(out, dotenvEntry{name: name, value: value, line: line})
	}
}

type dotenvParser struct {
	s    string
	i    int
	line int
}

func (p *dotenvParser) eof() bool  { return p.i >= len(p.s) }
func (p *dotenvParser) peek() byte { return p.s[p.i] }

func (p *dotenvParser) errorf(format string, args ...any) error {
	return usagef("line %d: %s", p.line, fmt.Sprintf(format, args...))
}

// skipSpace skips spaces, tabs and carriage returns, and newlines too if
// lines is set.
func (p *dotenvParser) skipSpace(lines bool) {
	for !p.eof() {
		switch p.peek() {
		case ' ', '\t', '\r':
			p.i++
		case '\n':
			if !lines {
				return
			}
			p.i++
			p.line++
		default:
			return
		}
	}
}

func (p *dotenvParser) skipLine() {
	for !p.eof() && p.peek() != '\n' {
		p.i++
	}
}

// endOfLine accepts what may follow a value: whitespace, then a comment
// or the end of the line.
func (p *dotenvParser) endOfLine() error {
	p.skipSpace(false)
	if p.eof() {
		return nil
	}
	switch p.peek() {
	case '#':
		p.skipLine()
		return nil
	case '\r', '\n':
		return nil
	}
	return p.errorf("unexpected characters after the closing quote")
}

func (p *dotenvParser) name() (string, error) {
	if strings.HasPrefix(p.s[p.i:], "export") && p.i+6 < len(p.s) && (p.s[p.i+6] == ' ' || p.s[p.i+6] == '\t') {
		p.i += 6
		p.skipSpace(false)
	}
	start := p.i
	for !p.eof() && p.peek() != '=' && p.peek() != '\n' {
		p.i++
	}
	name := strings.TrimSpace(p.s[start:p.i])
	if p.eof() || p.peek() != '=' {
		// Not quoted: the line may be part of a value whose quotes are missing.
		return "", p.errorf("expected NAME=VALUE (a multi-line value needs quotes)")
	}
	if secrets.ValidateName(name) != nil {
		// Not quoted: a malformed line may be part of a value.
		return "", p.errorf("the name before '=' %s", secrets.NameRule)
	}
	p.i++ // '='
	return name, nil
}

func (p *dotenvParser) value() (string, error) {
	p.skipSpace(false)
	if p.eof() {
		return "", nil
	}
	switch p.peek() {
	case '\'':
		start, line := p.i+1, p.line
		end := strings.IndexByte(p.s[start:], '\'')
		if end < 0 {
			p.line = line
			return "", p.errorf("the single quote is never closed")
		}
		v := p.s[start : start+end]
		p.line += strings.Count(v, "\n")
		p.i = start + end + 1
		return v, p.endOfLine()
	case '"':
		line := p.line
		p.i++
		var b strings.Builder
		for {
			if p.eof() {
				p.line = line
				return "", p.errorf("the double quote is never closed")
			}
			c := p.peek()
			p.i++
			switch c {
			case '"':
				return b.String(), p.endOfLine()
			case '\n':
				p.line++
				b.WriteByte(c)
			case '\\':
				if p.eof() {
					b.WriteByte(c)
					continue
				}
				e := p.peek()
				p.i++
				switch e {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '\\', '"', '$', '\'', '`':
					b.WriteByte(e)
				default:
					if e == '\n' {
						p.line++
					}
					b.WriteByte('\\')
					b.WriteByte(e)
				}
			default:
				b.WriteByte(c)
			}
		}
	}
	start := p.i
	for !p.eof() && p.peek() != '\n' {
		if p.peek() == '#' && (p.s[p.i-1] == ' ' || p.s[p.i-1] == '\t') {
			break
		}
		p.i++
	}
	v := strings.TrimRight(p.s[start:p.i], " \t\r")
	p.skipLine()
	return v, nil
}

// dotenvValue quotes v for a .env file so that parseDotenv gives v back
// (readers of other tools differ on backslashes, $ and backticks): bare when it is plainly safe, in
// single quotes (literal) when it holds no ' and no control character, in
// double quotes with escapes otherwise. $ is escaped in double quotes so
// readers that expand variables leave it alone.
func dotenvValue(v string) string {
	bare := v != ""
	single := true
	for _, r := range v {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("_-.,:/@%+=", r):
		case r == '\'' || r < 0x20 || r == 0x7f:
			bare, single = false, false
		default:
			bare = false
		}
	}
	switch {
	case bare:
		return v
	case single:
		return "'" + v + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '\\', '"', '$', '`':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// shellValue quotes v for a POSIX shell: in single quotes, each single quote
// inside closed, escaped and reopened.
func shellValue(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
