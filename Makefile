# zwrm secrets. `make dev` runs the service locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
ADDR ?= 127.0.0.1:8080
DATA ?= .zwrm
FUZZTIME ?= 30s

.PHONY: dev test build bench lint fuzz clean

## dev: build zwrm and serve the API on $(ADDR) with data in ./$(DATA)
dev: build
	./bin/zwrm dev --addr $(ADDR) --data $(DATA)

## test: vet, format check, and every test (race detector on)
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## build: the zwrm binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/zwrm ./cmd/zwrm

## bench: benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: gofmt, go vet, and a tidy go.mod
lint:
	test -z "$$(gofmt -l .)"
	$(GO) vet ./...
	$(GO) mod tidy -diff

## fuzz: each fuzz target for $(FUZZTIME) (the seed corpora run in `make test`)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzValidateName$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzValidateID$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzMaskNeverShowsTheMiddle$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzHandlerRequest$$' -fuzztime $(FUZZTIME) ./internal/httpapi

clean:
	rm -rf bin dist
