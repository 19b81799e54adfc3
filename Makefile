# heaplab - a thin wrapper over CMake so the usual commands work at the top.
#
#   make bench   install what is missing, build, run the quick suite into results/
#   make test    install what is missing, build, run every test (also under ASan+UBSan)
#   make build   install what is missing and build build/heaplab
#   make plots   PNG, SVG and plots/report.html from the newest results (RESULTS=path for others)
#   make regress run the deterministic gate (Callgrind instruction counts, allocation
#                counts, live and leaked bytes, collections) against results/baseline
#   make baseline  refresh results/baseline from this machine
#   make programs  the real-program suite (sqlite3, lua, python3, gs, z3) under every
#                system allocator, outputs checked, into results/programs/
#                (QUICK=1: small inputs, under 2 minutes; docs/programs.md)
#   make fuzz    build the libFuzzer targets (clang) and run each for FUZZ_SECONDS
#   make perf    every performance target, measured side by side: ratio, met or not, command
#                (PERF_ARGS="--rounds=N --depth=N ..."; scripts/perf.py --help)
#   make clean   remove the build trees

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DHEAPLAB_WERROR=ON

.PHONY: all deps build bench test test-release test-sanitize regress baseline plots fuzz perf clean \
	programs

# The deterministic gate's matrix: small, fixed work, counted under Callgrind.
# Boehm GC (tracing) is left out: conservative scanning makes its figures
# depend on stack contents.  So is the stress workload: it is not a benchmark.
GATE_ARGS = --quick --instructions --collector=manual,refcount,cycle,marksweep --allocator=pool \
	--workload=churn,cycles,cache,genlist,ring,slots,trees,larson,xmalloc,falseshare,fragadv,mlarge

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

bench: build
	./bench --quick --allocator=all --workload=all

test: test-release test-sanitize

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHEAPLAB_WERROR=ON \
	  -DHEAPLAB_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

plots: deps
	python3 scripts/plots.py $(RESULTS)

# The suite's programs are an optional group of install-deps.sh: make test
# does not install them.
programs: build
	@scripts/install-deps.sh programs
	python3 scripts/programs.py $(if $(QUICK),--quick) --bench $(BUILD)/heaplab

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHEAPLAB_FUZZ=ON \
	  -DHEAPLAB_SANITIZE=address,undefined >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_pool fuzz_collectors fuzz_cli
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Timing targets live here, never in ctest (docs/perf.md).
perf: build
	python3 scripts/perf.py $(PERF_ARGS)

regress: build
	rm -rf results/regress
	./bench $(GATE_ARGS) --out=results/regress
	./bench --compare results/baseline results/regress --report=results/regress/report.md

# The new baseline is recorded aside and checked before it replaces the old:
# --compare refuses a run recorded with --decorate as a baseline (exit 2).
baseline: build
	rm -rf results/baseline.new
	./bench $(GATE_ARGS) --out=results/baseline.new
	./bench --compare results/baseline.new results/baseline.new >/dev/null
	find results/baseline -name '2*_*' -delete
	mv results/baseline.new/2*_* results/baseline/
	rm -rf results/baseline.new

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
