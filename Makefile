# flowlens build, test, demo and benchmark entry points.
GO      ?= go
TAGS    ?= duckdb_arrow,isal
BIN     ?= bin/flowlens
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/flowlens/flowlens/internal/cli.Version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: all build test test-unit fuzz demo bench bench-serve vet clean deps

all: build

deps:
	scripts/setup.sh

build: deps
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/flowlens

# The whole suite: unit, golden, end-to-end and a short run of every fuzz target.
test: deps
	$(GO) vet -tags '$(TAGS)' ./...
	FLOWLENS_REQUIRE_CLICKHOUSE=1 $(GO) test -tags '$(TAGS)' -count=1 -timeout 20m ./...
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
