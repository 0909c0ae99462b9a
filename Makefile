# The two commands of the README are `make demo` and `make test`; the rest are for
# developers. Everything here works on a fresh clone: missing toolchain pieces are
# installed by the `toolchain` target (rustup only), and the browser tests' programs and
# npm packages by the `deps` target (Debian packages, the npm registry).

CARGO ?= cargo
SHARED ?= ../shared
FUZZ_SECONDS ?= 300
TRACE_SETS := pensieve-train fcc-test-windows oboe puffer-220218
DEMO_LAB := --traces tests/lab/data/demo-traces --video tests/lab/data/demo-video --bitrates 300,700,1200,2500,4500
E2E := tests/e2e
DEMO_DIR := target/demo
DEMO_ADDR ?= 127.0.0.1:8080
# The shared development trace sets join the demo's own when ../shared is there.
DEMO_SHARED_TRACES = $(foreach set,$(TRACE_SETS),$(if $(wildcard $(SHARED)/traces/$(set)),--traces $(SHARED)/traces/$(set)))

.PHONY: wasm demo lab-demo test deps system-deps toolchain lint unit wasm-check wasm-test e2e lab lab-timing bench bench-origin bench-startup bench-browser bench-transmux \
	fuzz inspect-fixtures clean

## The product on one machine: installs what is missing, builds the player package,
## encodes a 60 s test-pattern ladder the first time (target/demo/media), and serves it at
## http://$(DEMO_ADDR): the demo page, the dashboard, the origin routes (/shaped/ with the
## project's own network traces, and ../shared's development sets when present), beacon
## ingest into SQLite (target/demo/analytics.db). Ctrl-C stops.
demo: deps toolchain wasm
	$(CARGO) build --release -p collector
	@bin=$${CARGO_TARGET_DIR:-target}/release/collector; \
	if [ ! -f $(DEMO_DIR)/media/sample/master.m3u8 ]; then \
		echo "demo: encoding the sample ladder (once, about a minute and a half)"; \
		$$bin encode --test-pattern 60 --out $(DEMO_DIR)/media/sample || exit 1; \
	fi; \
	echo; echo "  demo:      http://$(DEMO_ADDR)/demo/"; \
	echo "  dashboard: http://$(DEMO_ADDR)/dashboard"; \
	echo "  metrics:   http://$(DEMO_ADDR)/metrics"; echo; \
	exec $$bin serve --media $(DEMO_DIR)/media --traces tests/lab/data/demo-traces $(DEMO_SHARED_TRACES) \
		--db sqlite://$(DEMO_DIR)/analytics.db --addr $(DEMO_ADDR)

## Plays the project's own demo traces through the real engine with every ABR algorithm
## and prints their QoE next to the offline optimum.
lab-demo: toolchain
	$(CARGO) run --release -q -p lab --bin abr-lab -- $(DEMO_LAB) --optimal

## Every test: formatting, lints, unit/property/integration tests, the browser build,
## the browser shell's tests and the end-to-end tests in headless Chromium.
test: deps toolchain lint unit wasm-check wasm-test e2e

## What the browser tests and benchmarks need beyond Rust: Debian's ffmpeg, chromium,
## chromium-driver, nginx and wrk (apt-get, only when missing) and tests/e2e's npm
## packages and web-demo's (uPlot for the dashboard) (npm ci, only when a lock file
## changed). Fast when all is present.
deps: system-deps $(E2E)/node_modules/.package-lock.json web-demo/node_modules/.package-lock.json

system-deps:
	@bash .ci/deps.sh

$(E2E)/node_modules/.package-lock.json: $(E2E)/package.json $(E2E)/package-lock.json
	cd $(E2E) && npm ci --no-audit --no-fund
	@touch $@

web-demo/node_modules/.package-lock.json: web-demo/package.json web-demo/package-lock.json
	cd web-demo && npm ci --no-audit --no-fund
	@touch $@

toolchain:
	@rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	@rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p player-wasm --target wasm32-unknown-unknown -- -D warnings

# Release: the lab's simulations and the property tests run many sessions.
unit:
	$(CARGO) test --workspace --release

wasm-check:
	$(CARGO) build -p player-wasm --target wasm32-unknown-unknown --release

## The browser shell's tests (player-wasm/tests/web.rs: options, fetch, MediaSource, the
## Player API) in headless Chromium through wasm-bindgen-test-runner, from the pinned
## wasm-bindgen CLI (installed if not).
wasm-test: system-deps toolchain
	@version=$$(awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock); \
		wasm-bindgen-test-runner --version 2>/dev/null | grep -qx "wasm-bindgen-test-runner $$version" \
		|| $(CARGO) install wasm-bindgen-cli --version "$$version" --locked
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 \
		CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
		$(CARGO) test -p player-wasm --target wasm32-unknown-unknown --test web

## The npm package (player-wasm/pkg/): cargo for wasm32, the pinned wasm-bindgen CLI, and
## wasm-opt from the npm package binaryen.
wasm: deps toolchain
	bash player-wasm/build-npm.sh

## hls.js and our player (the npm package, built first) in headless Chromium through the
## collector's /media/, /shaped/, /live/ and /faults/ (tests/e2e; screenshots and logs in
## tests/e2e/artifacts/).
e2e: deps wasm
	$(CARGO) build --release -p collector
	cd $(E2E) && node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs

## The ABR lab over the four development trace sets, with the offline optimum.
lab:
	$(CARGO) build --release -p lab --bin abr-lab
	./target/release/abr-lab $(foreach set,$(TRACE_SETS),--traces $(SHARED)/traces/$(set)) \
		--video $(SHARED)/traces/pensieve-video --optimal

## Wall-clock timings of the lab (BENCHMARKS.md).
lab-timing:
	$(CARGO) build --release -p lab --bin abr-lab
	/usr/bin/time -f "all algorithms, 4 sets: %e s" ./target/release/abr-lab \
		$(foreach set,$(TRACE_SETS),--traces $(SHARED)/traces/$(set)) --video $(SHARED)/traces/pensieve-video --json > /dev/null
	/usr/bin/time -f "all algorithms + optimal, 4 sets: %e s" ./target/release/abr-lab \
		$(foreach set,$(TRACE_SETS),--traces $(SHARED)/traces/$(set)) --video $(SHARED)/traces/pensieve-video --optimal --json > /dev/null

## Criterion benchmarks (engine decision, ABR decisions).
bench:
	$(CARGO) bench -p player-wasm

## The collector's origin against nginx on the same files (wrk), its peak RSS, and 100
## concurrent shaped sessions against their trace (BENCHMARKS.md, "Collector origin").
bench-origin: deps
	$(CARGO) build --release -p collector
	bash tests/bench/origin.sh

## Startup of our player (the npm package, built first) against hls.js in headless Chromium:
## load() to first frame, bytes and start level, through /media/ and a shaped 5 Mbit/s,
## 80 ms session; 10 alternating runs, medians (BENCHMARKS.md, "Startup vs hls.js"; JSON in
## tests/bench/results/startup.json).
bench-startup: deps wasm
	$(CARGO) build --release -p collector
	node tests/bench/startup.mjs

## Our player (the npm package, built first; `default` ABR) against hls.js (default
## configuration) in headless Chromium, both measured by our analytics through the
## collector: 90 s of playback per trace through /shaped/, 8 traces drawn with a fixed seed
## from ../shared/traces' four development sets (ARGS="--traces DIR" for another set,
## "--seconds N"); startup, rebuffer ratio, bitrate, switches, QoE_lin per segment, means and
## ratios (BENCHMARKS.md, "Compare"; tests/bench/results/compare.{json,png}).
bench-browser: deps wasm
	$(CARGO) build --release -p collector
	node tests/bench/compare.mjs $(ARGS)

## Transmux throughput in Node (MB of TS per second): our wasm transmuxer (transmux/pkg,
## built first by transmux/build.sh) against mux.js and hls.js's transmuxer, on a 30 s
## 1080p ~6 Mbit/s TS segment set encoded once by ffmpeg; 9 alternating runs, medians, and
## the module's gzip size beside mux.js's (BENCHMARKS.md, "Transmuxer"; JSON in
## tests/bench/results/transmux.json).
bench-transmux: deps toolchain
	bash transmux/build.sh
	node tests/bench/transmux.mjs

## Beacon ingest (wrk, 200 connections, 20-event batches): durable on SQLite against the same
## route storing nothing (unknown key, 401) in the same run, then PostgreSQL (a throwaway
## server); 3 rounds, medians; checks the store holds every acknowledged event once
## (BENCHMARKS.md, "Analytics ingest").
.PHONY: bench-ingest bench-overview
bench-ingest: deps
	$(CARGO) build --release -p collector
	bash tests/bench/ingest.sh

## Dashboard queries over 1,000,000 generated views (collector/examples/seed_views.rs):
## overview, timeseries, breakdown, views and a whole dashboard refresh over 24 h, 7 d and
## 30 d, p50/p95, on SQLite and PostgreSQL (BENCHMARKS.md, "Dashboard queries").
bench-overview: deps
	$(CARGO) build --release -p collector --example seed_views
	bash tests/bench/overview.sh

## Fuzzes playlist parsing, the beacon decoder and the TS/packed-audio transmuxer (nightly +
## cargo-fuzz), FUZZ_SECONDS each.
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	mkdir -p player-wasm/fuzz/corpus/playlist
	-find $(SHARED)/fixtures -type f \( -name '*.m3u8' -o -name '*.m3u' \) -exec cp {} player-wasm/fuzz/corpus/playlist/ \;
	cd player-wasm/fuzz && $(CARGO) +nightly fuzz run playlist -- -max_total_time=$(FUZZ_SECONDS)
	mkdir -p protocol/fuzz/corpus/beacon
	cd protocol/fuzz && $(CARGO) +nightly fuzz run beacon corpus/beacon seeds -- -max_total_time=$(FUZZ_SECONDS)
	SHARED=$(abspath $(SHARED)) bash transmux/fuzz/seed.sh
	cd transmux/fuzz && $(CARGO) +nightly fuzz run demux corpus/demux -- -max_total_time=$(FUZZ_SECONDS) -max_len=32768

## Parses every playlist in ../shared/fixtures and prints one JSON line per file.
inspect-fixtures:
	$(CARGO) build --release -p lab --bin hls-inspect
	find $(SHARED)/fixtures -type f \( -name '*.m3u8' -o -name '*.m3u' \) -print0 | sort -z \
		| xargs -0 ./target/release/hls-inspect

clean:
	$(CARGO) clean
