# The two things to do with tether; both install what is missing first.
#   make run   builds tether, creates an autoreaped no_new_privs child, and shows
#              `tether run --autokill --nnp` taking its command down when killed
#   make test  runs every test: host (plain and sanitized) and the QEMU kernel matrix

.PHONY: all build run test clean

all: build

build:
	@scripts/ensure-deps.sh
	@[ -f build/build.ninja ] || meson setup build >/dev/null
	@ninja --quiet -C build

run: build
	@scripts/demo.sh

test:
	@scripts/test.sh

clean:
	rm -rf build build-asan
