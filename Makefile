# drydock — see README.md.
GO ?= go
DEMO_CACHE ?= $(CURDIR)/.demo-cache
FUZZTIME ?= 60s
# Release settings (make release; docs/releases.md).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
RELEASE_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST ?= dist
RELEASE_LDFLAGS = -s -w -buildid= -X main.version=$(VERSION)
RELEASE_COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
RELEASE_REPO ?= https://github.com/drydock-scan/drydock
RELEASE_BUILDER_ID ?= https://github.com/drydock-scan/drydock/blob/main/docs/releases.md\#builder-make-release
# An ECDSA P-256 private key (PEM); empty: an unsigned release.
RELEASE_SIGNING_KEY ?=

.PHONY: build demo test bench fixtures lint fuzz release

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/drydock ./cmd/drydock

# Static binaries that are byte-identical for the same commit and Go version:
# no cgo, no paths (-trimpath), no build ID, no VCS stamp (a dirty tree or a
# different clone would change it), architecture levels pinned so GOAMD64 or
# GOARM64 in the environment cannot leak in. The tarballs take their one
# timestamp from the commit (SOURCE_DATE_EPOCH), and gzip -n drops its own.
# Then the release's metadata (docs/releases.md), reproducible too: the SBOM
# (drydock sbom of the binaries, normalised by scripts/releasemeta), the SLSA
# provenance (subjects: every file above), SHA256SUMS of all of them, and,
# with RELEASE_SIGNING_KEY=KEY.pem (ECDSA P-256), SHA256SUMS.sig and a
# Sigstore bundle of the provenance (both randomized: ECDSA).
release:
	@mkdir -p $(DIST) && rm -rf $(DIST)/drydock_* $(DIST)/SHA256SUMS $(DIST)/SHA256SUMS.sig $(DIST)/.work
	@set -e; for t in $(RELEASE_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; name=drydock_$(VERSION)_$${os}_$${arch}; \
		echo "== $$name"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOAMD64=v1 GOARM64=v8.0 $(GO) build -trimpath -buildvcs=false \
			-ldflags "$(RELEASE_LDFLAGS)" -o $(DIST)/$$name ./cmd/drydock; \
		chmod 0755 $(DIST)/$$name; \
		tar -C $(DIST) --transform "s|^$$name\$$|drydock|" --sort=name --mtime=@$(SOURCE_DATE_EPOCH) \
			--owner=0 --group=0 --numeric-owner --mode=0755 -cf - $$name | gzip -9n > $(DIST)/$$name.tar.gz; \
	done
	@set -e; w=$(DIST)/.work; mkdir -p $$w/root $$w/cache; \
	CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0 $(GO) build -o $$w/releasemeta ./scripts/releasemeta; \
	host=$(DIST)/drydock_$(VERSION)_$$($(GO) env GOOS)_$$($(GO) env GOARCH); \
	if [ ! -x $$host ]; then host=$$w/drydock; CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0 $(GO) build -trimpath -o $$host ./cmd/drydock; fi; \
	bins=; for t in $(RELEASE_TARGETS); do bins="$$bins drydock_$(VERSION)_$${t%/*}_$${t#*/}"; done; \
	for b in $$bins; do ln $(DIST)/$$b $$w/root/$$b; done; \
	echo "== drydock_$(VERSION).cdx.json (SBOM, by $$host)"; \
	( cd $$w && env $$(env | sed -n 's/^\(DRYDOCK_[A-Za-z0-9_]*\)=.*/-u \1/p') "$$(cd "$$(dirname $$host)" && pwd)/$$(basename $$host)" \
		--cache-dir cache --quiet sbom --no-cache --no-progress --format cyclonedx -o raw.cdx.json dir:root ); \
	$$w/releasemeta sbom -in $$w/raw.cdx.json -out $(DIST)/drydock_$(VERSION).cdx.json -version $(VERSION) -epoch $(SOURCE_DATE_EPOCH); \
	files=; for b in $$bins; do files="$$files $$b $$b.tar.gz"; done; files="$$files drydock_$(VERSION).cdx.json"; \
	echo "== drydock_$(VERSION).intoto.json (SLSA provenance v1)"; \
	$$w/releasemeta provenance -dist $(DIST) -out $(DIST)/drydock_$(VERSION).intoto.json -version $(VERSION) \
		-epoch $(SOURCE_DATE_EPOCH) -commit "$(RELEASE_COMMIT)" -repo $(RELEASE_REPO) -builder-id "$(RELEASE_BUILDER_ID)" \
		-go-version "$$($(GO) env GOVERSION)" -targets "$(RELEASE_TARGETS)" -ldflags "$(RELEASE_LDFLAGS)" $$files; \
	( cd $(DIST) && LC_ALL=C sha256sum $$(printf '%s\n' $$files drydock_$(VERSION).intoto.json | LC_ALL=C sort) > SHA256SUMS ); \
	if [ -n "$(RELEASE_SIGNING_KEY)" ]; then \
		echo "== SHA256SUMS.sig, drydock_$(VERSION).intoto.sigstore.json (signed with $(RELEASE_SIGNING_KEY))"; \
		$$w/releasemeta sign -key "$(RELEASE_SIGNING_KEY)" -sums $(DIST)/SHA256SUMS \
			-provenance $(DIST)/drydock_$(VERSION).intoto.json -bundle $(DIST)/drydock_$(VERSION).intoto.sigstore.json; \
	else \
		echo "UNSIGNED RELEASE: RELEASE_SIGNING_KEY is not set, so there is no SHA256SUMS.sig and no Sigstore bundle;"; \
		echo "  the GitHub Action and the GitLab template refuse it unless signature checks are turned off."; \
	fi; \
	rm -rf $$w

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
