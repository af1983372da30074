# drydock — see README.md.
GO ?= go
DEMO_CACHE ?= $(CURDIR)/.demo-cache

.PHONY: build demo test bench fixtures lint

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/drydock ./cmd/drydock

# A real scan, offline: build the vulnerability database from the mirror the
# repo carries, then scan the repo's Alpine 3.16.9 image.
demo: build
	./bin/drydock --cache-dir $(DEMO_CACHE) db update --source testdata/mirror
	./bin/drydock --cache-dir $(DEMO_CACHE) image testdata/images/alpine-3.16.9.tar

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

bench:
	bash bench/run

fixtures:
	$(GO) run ./internal/testimage/mkfixtures -data ../shared/data -out testdata/images
