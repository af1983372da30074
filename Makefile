# drydock — see README.md.
GO ?= go
DEMO_CACHE ?= $(CURDIR)/.demo-cache
FUZZTIME ?= 60s

.PHONY: build demo test bench fixtures lint fuzz

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
