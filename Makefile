# drydock — see README.md.
GO ?= go
DEMO_CACHE ?= $(CURDIR)/.demo-cache
FUZZTIME ?= 60s
# Release settings (make release; docs/releases.md).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
RELEASE_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= dist

.PHONY: build demo test bench fixtures lint fuzz release

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/drydock ./cmd/drydock

# Static binaries that are byte-identical for the same commit and Go version:
# no cgo, no paths (-trimpath), no build ID, no VCS stamp (a dirty tree or a
# different clone would change it), architecture levels pinned so GOAMD64 or
# GOARM64 in the environment cannot leak in. The tarballs take their one
# timestamp from the commit (SOURCE_DATE_EPOCH), and gzip -n drops its own.
release:
	@mkdir -p $(DIST) && rm -f $(DIST)/drydock_* $(DIST)/SHA256SUMS
	@set -e; for t in $(RELEASE_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; name=drydock_$(VERSION)_$${os}_$${arch}; \
		echo "== $$name"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOAMD64=v1 GOARM64=v8.0 $(GO) build -trimpath -buildvcs=false \
			-ldflags "-s -w -buildid= -X main.version=$(VERSION)" -o $(DIST)/$$name ./cmd/drydock; \
		chmod 0755 $(DIST)/$$name; \
		tar -C $(DIST) --transform "s|^$$name\$$|drydock|" --sort=name --mtime=@$(SOURCE_DATE_EPOCH) \
			--owner=0 --group=0 --numeric-owner --mode=0755 -cf - $$name | gzip -9n > $(DIST)/$$name.tar.gz; \
	done
	cd $(DIST) && sha256sum drydock_* > SHA256SUMS

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

# Every fuzz target of every package, FUZZTIME each (make fuzz FUZZTIME=5s).
# go test -fuzz takes one target of one package per run, hence the loops. A
# package whose targets cannot be listed (it does not build) or a target that
# fails is reported at the end, and the run fails.
fuzz:
	@failed=; \
	for dir in $$(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=vendor '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		names=$$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); \
		if [ -z "$$names" ]; then failed="$$failed $$dir(no-list)"; continue; fi; \
		for fn in $$names; do \
			echo "== $$dir $$fn ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$dir || failed="$$failed $$dir:$$fn"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed" >&2; exit 1; fi
