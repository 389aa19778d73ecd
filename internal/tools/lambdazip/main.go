// Command lambdazip packs a Lambda bootstrap binary into a zip that is the
// same for the same binary: a fixed time stamp and mode, so a rebuild that
// changes nothing deploys nothing.
//
//	go run ./internal/tools/lambdazip -o dist/set.zip dist/set/bootstrap
//
// With -name, the file's path in the zip: a layer's extension lives under
// extensions/ (-name extensions/zwrm-secrets).
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	out := flag.String("o", "", "zip file to write")
	name := flag.String("name", "", "the file's path in the zip (default: its base name)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o OUT.zip [-name PATH] BOOTSTRAP")
		os.Exit(2)
	}
	if *name == "" {
		*name = filepath.Base(flag.Arg(0))
	}
	if err := pack(*out, flag.Arg(0), *name); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

func pack(out, bin, name string) error {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
