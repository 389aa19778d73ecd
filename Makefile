# zwrm secrets. `make dev` runs the service locally; `make test` runs every test.
SHELL := /bin/bash
GO ?= go
ADDR ?= 127.0.0.1:8080
DATA ?= .zwrm
FUZZTIME ?= 30s

.PHONY: dev test build lambdas synth deploy diff destroy bench lint fuzz openapi clean FORCE

## dev: build zwrm and serve the API on $(ADDR) with data in ./$(DATA)
dev: bin/zwrm
	./bin/zwrm dev --addr $(ADDR) --data $(DATA)

## node_modules: the npm packages the tests use (dynalite), exactly as locked
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## test: vet, format check, and every test (race detector on; DynamoDB tests against dynalite)
test: node_modules/.package-lock.json
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	npm --prefix web test

## web: build the web UI (web/src -> internal/webui/dist, which zwrm embeds); needs Node.js and npm
web: web/node_modules/.package-lock.json
	cd web && node build.mjs --check

## web/node_modules: the UI's npm packages (AG Grid, esbuild, playwright-core), exactly as locked
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

.PHONY: web

# test also runs the browser tests (web/tests: Chromium against zwrm dev).
test: web/node_modules/.package-lock.json

# zwrm embeds the web UI: build it first wherever npm is (without it, zwrm
# serves a page that says to run `make web`).
bin/zwrm: $(if $(shell command -v npm 2>/dev/null),web)

FUNCTIONS := set list delete resolve resolve-direct admin authorizer

## build: the zwrm binary in ./bin and a Lambda zip per function in ./dist
build: bin/zwrm lambdas

# The version, commit and build date zwrm --version prints.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
bin/zwrm: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)" -o bin/zwrm ./cmd/zwrm

## lambdas: dist/FUNCTION.zip for each function (linux/arm64, provided.al2023), and the Lambda
##          extension's layer, dist/zwrm-secrets-layer.zip (extensions/zwrm-secrets)
lambdas:
	@mkdir -p dist
	@for fn in $(FUNCTIONS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -tags lambda.norpc \
			-o dist/$$fn/bootstrap ./functions/$$fn || exit 1; \
		$(GO) run ./internal/tools/lambdazip -o dist/$$fn.zip dist/$$fn/bootstrap || exit 1; \
		printf '%-12s %8d bytes\n' $$fn.zip $$(stat -c %s dist/$$fn.zip); \
	done
	@GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" \
		-o dist/extension/zwrm-secrets ./functions/extension
	@$(GO) run ./internal/tools/lambdazip -o dist/zwrm-secrets-layer.zip -name extensions/zwrm-secrets dist/extension/zwrm-secrets
	@printf '%-12s %8d bytes\n' zwrm-secrets-layer.zip $$(stat -c %s dist/zwrm-secrets-layer.zip)

FORCE:

## synth: the CloudFormation template in ./cdk.out, offline (no AWS credentials): the CDK app run
##        directly, with the function zips and the built web UI it uploads; CONTEXT='{"stage":"dev"}'
##        sets context keys (docs/deploy.md)
CONTEXT ?=
synth: lambdas web
	rm -rf cdk.out
	CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='$(CONTEXT)' $(GO) run ./infra
	@ls -1 cdk.out/*.template.json

# The CDK CLI pinned in package.json, for the targets that talk to AWS.
CDK := npx --no-install cdk
## deploy: build and deploy with the CDK CLI (AWS credentials, `npx cdk bootstrap` once per account
##         and region); CDK_ARGS='-c stage=dev -c alarmEmail=ops@example.com' sets context keys
CDK_ARGS ?=
deploy: lambdas web node_modules/.package-lock.json
	$(CDK) deploy $(CDK_ARGS)

## diff: what deploy would change
diff: lambdas web node_modules/.package-lock.json
	$(CDK) diff $(CDK_ARGS)

## destroy: delete the stack; the table, the key and the buckets are kept (docs/deploy.md, "Teardown")
destroy: lambdas web node_modules/.package-lock.json
	$(CDK) destroy $(CDK_ARGS)

## bench: benchmarks (resolve on the embedded store and on dynalite with local-kms;
## a fixed 300 resolves per case, so p99 has samples behind it), then the load case: resolve over
## loopback against `zwrm dev` processes built from this tree and from BENCH_BASELINE, 1, 8 and 32
## clients, LOAD_RESOLVES resolves each. A few minutes in all.
BENCH_BASELINE ?= 35d6c28
LOAD_RESOLVES ?= 2000
bench: node_modules/.package-lock.json
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkResolveLoad$$' -benchmem -benchtime=300x ./...
	BENCH_BASELINE='$(BENCH_BASELINE)' $(GO) test -run '^$$' -bench '^BenchmarkResolveLoad$$' \
		-benchtime=$(LOAD_RESOLVES)x -timeout 30m ./internal/bench

## openapi: regenerate the OpenAPI document (internal/httpapi/openapi.json) and the web UI's
##          routes module (web/src/routes.js) from the route table and the wire types
openapi:
	$(GO) run ./internal/tools/openapi

## lint: gofmt, go vet, and a tidy go.mod
lint:
	test -z "$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*'))"
	$(GO) vet ./...
	$(GO) mod tidy -diff

## fuzz: each fuzz target for $(FUZZTIME) (the seed corpora run in `make test`)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzValidateName$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzValidateID$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzMaskNeverShowsTheMiddle$$' -fuzztime $(FUZZTIME) ./internal/secrets
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzHandlerRequest$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParseDotenv$$' -fuzztime $(FUZZTIME) ./cmd/zwrm
	$(GO) test -run '^$$' -fuzz '^FuzzDotenvValueRoundTrips$$' -fuzztime $(FUZZTIME) ./cmd/zwrm

clean:
	rm -rf bin dist cdk.out
