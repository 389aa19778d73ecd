package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
)

// assignment is one NAME=VALUE of `set`.
type assignment struct {
	name, value string
}

// readAssignments reads NAME=VALUE arguments. NAME=- takes the value from
// stdin (one trailing newline dropped; a prompt without echo on a
// terminal) and NAME=@PATH from a file (exactly its bytes), so a value
// need not appear on the command line. Errors name the argument's position
// or name, never its value.
func (a *app) readAssignments(args []string) ([]assignment, error) {
	var out []assignment
	seen := map[string]bool{}
	fromStdin := 0
	for _, arg := range args {
		if strings.HasSuffix(arg, "=-") {
			fromStdin++
		}
	}
	if fromStdin > 1 {
		return nil, usagef("only one value can come from stdin (NAME=-)")
	}
	for i, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			if secrets.ValidateName(arg) == nil {
				return nil, usagef("%s has no value: write %s=VALUE, %s=- (value from stdin) or %s=@FILE", arg, arg, arg, arg)
			}
			return nil, usagef("argument %d is not NAME=VALUE", i+1)
		}
		if err := secrets.ValidateName(name); err != nil {
			return nil, usagef("argument %d: %v", i+1, err)
		}
		if seen[name] {
			return nil, usagef("%s is given twice", name)
		}
		seen[name] = true
		switch {
		case value == "-":
			v, err := a.readSecret("Value for "+name+" (input hidden): ", secrets.MaxValueBytes)
			if err != nil {
				return nil, err
			}
			value = v
		case strings.HasPrefix(value, "@"):
			v, err := readValueFile(strings.TrimPrefix(value, "@"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			value = v
		}
		if value == "" {
			return nil, usagef("%s: the value is empty; a secret needs 1 byte to %d KiB", name, secrets.MaxValueBytes>>10)
		}
		if len(value) > secrets.MaxValueBytes {
			return nil, usagef("%s: the value is over %d KiB, the most a secret may hold", name, secrets.MaxValueBytes>>10)
		}
		if !utf8.ValidString(value) {
			return nil, usagef("%s: the value is not UTF-8 text (encode binary data, e.g. as base64)", name)
		}
		out = append(out, assignment{name: name, value: value})
	}
	return out, nil
}

func readValueFile(path string) (string, error) {
	if path == "" {
		return "", usagef("@ needs a file path: NAME=@path/to/file")
	}
	// The path is not repeated in errors: what follows @ may be a value
	// that happens to start with @, and errors end up in CI logs.
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("the file after @ cannot be read (%w); to set a value that starts with @, read it from stdin with NAME=-", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, secrets.MaxValueBytes+1))
	if err != nil {
		return "", fmt.Errorf("read the file after @: %w", err)
	}
	if len(b) > secrets.MaxValueBytes {
		return "", usagef("the file after @ is over %d KiB, the most a value may hold", secrets.MaxValueBytes>>10)
	}
	return string(b), nil
}
