# Eventscope: the two commands a newcomer needs are `make serve` and `make test`.
# Each target runs scripts/setup.sh first, which installs missing tools and skips the rest.
#
#   make serve       build the release app and serve it at http://127.0.0.1:8080
#   make test        formatting, lints, native + browser tests, release build, size
#                    budget and end-to-end tests; ends with "N passed, N failed"
#   make dist        release build into dist/ (PUBLIC_URL=/sub/path/ for a sub-path host)
#   make dev         trunk serve: debug build with live reload on http://127.0.0.1:8080
#   make setup       only install the tools

SHELL := /bin/bash
PUBLIC_URL ?= /
PORT ?= 8080
WITH_ENV := source scripts/env.sh &&

.PHONY: setup serve dist dev test clean

setup:
	@scripts/setup.sh

dist: setup
	@$(WITH_ENV) wasm trunk build --release --public-url "$(PUBLIC_URL)"

serve: dist
	@BASE="$(PUBLIC_URL)" node scripts/serve.mjs dist $(PORT)

dev: setup
	@$(WITH_ENV) wasm trunk serve --address 127.0.0.1 --port $(PORT)

test:
	@scripts/test.sh

clean:
	cargo clean
	rm -rf dist e2e/output
