# C library recipes: build-c, test-c, bench-c, install.
.PHONY: build-c test-c bench-c install
build-c test-c bench-c install:
	@echo "$@: not written yet"; exit 1
