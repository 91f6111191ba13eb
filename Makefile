# Build, test and run dsrdesk. `make test` is what CI runs (.ci/run) and what a developer runs
# before pushing; `make help` lists the targets.

GO        ?= go
FUNCTIONS := intake sweep admin portal inbound
# make dev receives mail for this address (POST /_local/inbound, make inbound EML=…).
INBOUND_ADDRESS ?= privacy@example.dk

# Lambda runs the functions on Graviton (provided.al2023, arm64). A static binary needs no libc
# from the image; lambda.norpc drops aws-lambda-go's legacy RPC server; nethttpomithttp2 drops
# net/http's bundled HTTP/2 (0.4 MB of every binary), which no call of the functions uses:
# DynamoDB, SES and S3 answer HTTP/1.1, and the Runtime API is plain HTTP; -trimpath and an
# empty build id make the zip the same for the same source, so a deploy without changes
# changes nothing. infra/bench builds with these flags (read from here) and its size test, in
# make test, holds every binary to its bound.
LAMBDA_BUILD = GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc,nethttpomithttp2 -trimpath -ldflags='-s -w -buildid='

# npm writes this file last, so it exists only after a complete install; depending on the lock
# file also reinstalls after a pull that changed the emulators' versions.
NODE_MODULES := infra/node_modules/.package-lock.json

.DEFAULT_GOAL := help
.PHONY: help deps test build dev inbound bench load fmt clean \
	build-IntakeFunction build-SweepFunction build-AdminFunction build-PortalFunction build-InboundFunction

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: $(NODE_MODULES) ## install the emulators (infra/node_modules) and download Go modules
	$(GO) mod download

$(NODE_MODULES): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund

test: deps ## vet, then run every test against dynalite and aws-ses-v2-local
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

build: ## build every function into build/<name>/bootstrap (linux/arm64)
	@set -e; for f in $(FUNCTIONS); do \
		echo "build functions/$$f -> build/$$f/bootstrap"; \
		$(LAMBDA_BUILD) -o build/$$f/bootstrap ./functions/$$f; \
	done

# sam build with `BuildMethod: makefile` runs build-<LogicalId> and sets ARTIFACTS_DIR. The check
# keeps a run by hand from writing /bootstrap.
build-IntakeFunction: ## (sam build) intake into $ARTIFACTS_DIR/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build"; exit 1; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/intake

build-SweepFunction: ## (sam build) sweep into $ARTIFACTS_DIR/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build"; exit 1; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweep

build-AdminFunction: ## (sam build) admin into $ARTIFACTS_DIR/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build"; exit 1; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/admin

build-PortalFunction: ## (sam build) portal into $ARTIFACTS_DIR/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build"; exit 1; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/portal

build-InboundFunction: ## (sam build) inbound into $ARTIFACTS_DIR/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build"; exit 1; }
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/inbound

dev: deps ## run the whole desk locally without Docker (infra/local), receiving mail for INBOUND_ADDRESS
	$(GO) run ./infra/local -param InboundAddress=$(INBOUND_ADDRESS)

inbound: ## mail an .eml file to the running desk as SES would (make inbound EML=functions/inbound/testdata/mail/gmail-da-utf8.eml)
	@test -n "$(EML)" || { echo "usage: make inbound EML=path/to/mail.eml"; exit 1; }
	curl --silent --show-error --fail-with-body --data-binary @$(EML) http://127.0.0.1:3000/_local/inbound

bench: deps ## measure against the performance targets and print one table (infra/bench, about four minutes on a quiet machine)
	GO=$(GO) $(GO) run ./infra/bench

load: deps ## 50 clients on the local runner for a minute, then bursts against the rate limits (infra/load, about six minutes)
	DSR_LOAD=1 $(GO) test -count=1 -v -timeout 20m -run '^TestLoad$$' ./infra/load

fmt: ## gofmt every Go file
	$(GO) fmt ./...

clean: ## remove build output and test artifacts (keeps infra/node_modules)
	rm -rf build .aws-sam artifacts coverage.out coverage.html
