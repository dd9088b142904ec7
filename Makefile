# The two things to do with tether; both install what is missing first.
#   make run   builds tether, creates an autoreaped no_new_privs child, and shows
#              `tether run --autokill --nnp` taking its command down when killed
#   make test  runs every test: host (plain and sanitized) and the QEMU kernel matrix
#   make bench runs the benchmark (bench/run.sh): tables, build/bench/results.csv,
#              bench/results.md and bench/spawn-vs-rss.png

.PHONY: all build run test bench clean

all: build

build:
	@scripts/ensure-deps.sh
	@[ -f build/build.ninja ] || meson setup build >/dev/null
	@ninja --quiet -C build

run: build
	@scripts/demo.sh

test:
	@scripts/test.sh

bench:
	@scripts/ensure-deps.sh
	@bench/run.sh

clean:
	rm -rf build build-asan build-fuzz build-vg
