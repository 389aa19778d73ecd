// Command openapi writes the generated OpenAPI document
// (internal/httpapi/openapi.json) and the web UI's routes module
// (web/src/routes.js) from the route table and the wire types: `make
// openapi`. Tests fail when either differs from what is committed.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/zwrm/secrets/internal/httpapi"
)

func main() {
	doc := flag.String("doc", "internal/httpapi/openapi.json", "where to write the OpenAPI document")
	routes := flag.String("routes", "web/src/routes.js", "where to write the web UI's routes module")
	flag.Parse()
	if err := run(*doc, *routes); err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
}

func run(docPath, routesPath string) error {
	doc, err := httpapi.OpenAPIDocument()
	if err != nil {
		return err
	}
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		return err
	}
	return os.WriteFile(routesPath, httpapi.RoutesModule(), 0o644)
}
