# flowlens build, test, demo and benchmark entry points.
GO      ?= go
TAGS    ?= duckdb_arrow,isal
BIN     ?= bin/flowlens
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/flowlens/flowlens/internal/cli.Version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build test test-unit fuzz demo bench bench-serve vet clean deps ui screenshots

all: build

deps:
	scripts/setup.sh

build: deps
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/flowlens

# The web console: web/ (TypeScript, Vite, ECharts) built into internal/web/dist, which is
# committed and embedded; make test fails when it is stale (internal/web TestBundleFresh).
ui:
	cd web && npm ci && npm run build

# The console's screenshots in docs/ (the README shows docs/console.png, docs/monitoring.png): the browser tests
# run against a flowlens serve on generated demo data; all their screenshots stay in bin/screenshots.
screenshots: deps
	FLOWLENS_REQUIRE_CHROMIUM=1 FLOWLENS_SCREENSHOTS=$(CURDIR)/bin/screenshots $(GO) test -tags '$(TAGS)' -count=1 -run 'TestConsoleBrowser' ./internal/cli

# The whole suite: unit, golden, end-to-end and a short run of every fuzz target.
test: deps
	$(GO) vet -tags '$(TAGS)' ./...
	FLOWLENS_REQUIRE_CLICKHOUSE=1 FLOWLENS_REQUIRE_UI=1 FLOWLENS_REQUIRE_CHROMIUM=1 FLOWLENS_REQUIRE_AWSCLI=1 FLOWLENS_REQUIRE_PROMETHEUS=1 $(GO) test -tags '$(TAGS)' -count=1 -timeout 20m ./...
	scripts/fuzz.sh $(FUZZTIME)

test-unit:
	$(GO) test -tags '$(TAGS)' ./...

fuzz:
	scripts/fuzz.sh 60s

demo: build
	$(BIN) demo

bench: build
	scripts/bench.sh

# The query workload through flowlens serve: fresh CLI processes, the server warm, 50 clients for 60 s.
bench-serve: build
	scripts/bench-serve.sh

clean:
	rm -rf bin
