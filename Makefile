# gpurun — plain Makefile. `make check` installs its own Debian packages when missing.
VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share
MANDIR    ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR   ?=

CC        ?= cc
# libvirt is dlopen()ed (launcher/dlopen-libvirt.h): only its headers are needed at build time.
# Code calling libvirt: call dlopen_libvirt() once, then sym_virXxx(...) instead of virXxx(...);
# -lvirt is deliberately NOT linked (it tripled start-up time, see bench/run).
PKGS      := libxml-2.0 libpci libkmod json-c
PKG_CFLAGS := $(shell pkg-config --cflags libvirt $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
             -Wno-format-nonliteral -Werror
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilauncher -DGPURUN_VERSION='"$(VERSION)"' \
             -DGPURUN_DATADIR='"$(DATADIR)/gpurun"' -D_GNU_SOURCE
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# B is the build directory; check-sanitize re-runs this Makefile with B=build-san.
B         ?= build
LAYERS    := util core host hostcfg cli
LIB_SRC   := $(filter-out launcher/cli/main.c,$(foreach l,$(LAYERS),$(wildcard launcher/$(l)/*.c)))
LIB_OBJ   := $(patsubst launcher/%.c,$(B)/obj/%.o,$(LIB_SRC))
UNIT_SRC  := $(wildcard tests/unit/test-*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BIN  := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz-*.c)
HDRS      := $(foreach l,$(LAYERS),$(wildcard launcher/$(l)/*.h))

.PHONY: build-deps-present all check check-unit check-sanitize check-vm check-layers check-fixtures \
        fuzz bench demo install uninstall format format-check clean deps deps-vm tests tools check-fresh

all: $(B)/gpurun

V ?= 0
ifeq ($(V),0)
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
msg =
endif

# -MMD -MP: each object depends on the headers it includes, so a header edit rebuilds its users.
$(B)/obj/%.o: launcher/%.c | build-deps-present
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libgpurun.a: $(LIB_OBJ)
	@rm -f $@
	$(call msg,AR,$@)ar rcs $@ $^

$(B)/gpurun: $(B)/obj/cli/main.o $(B)/libgpurun.a
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# tests/unit/testutil.c (temporary roots, ROM/VFCT builders, host snapshots, the test main) is
# linked by every unit test and every tool in tests/tools; it does not use cmocka.
TESTUTIL_OBJ := $(B)/obj/tests/testutil.o
$(TESTUTIL_OBJ): tests/unit/testutil.c | build-deps-present
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -Itests/unit -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(TESTUTIL_OBJ) $(B)/libgpurun.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -Itests/unit -o $@ $< $(TESTUTIL_OBJ) $(B)/libgpurun.a $(PKG_LIBS) $(CMOCKA_LIBS) $(LDFLAGS)

$(B)/tools/%: tests/tools/%.c $(TESTUTIL_OBJ) $(B)/libgpurun.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -Itests/unit -o $@ $< $(TESTUTIL_OBJ) $(B)/libgpurun.a $(PKG_LIBS) $(LDFLAGS)

# Compiler flags come from pkg-config when this Makefile is read: a target that installs the
# packages first (check, demo) builds in a sub-make, and a plain `make` on a machine without them
# stops here with the command that installs them.
build-deps-present:
	@pkg-config --exists libvirt $(PKGS) || { \
	  echo "gpurun: the build packages are missing (pkg-config finds no libvirt/libxml-2.0/libpci/libkmod/json-c)." >&2; \
	  echo "gpurun: install them with:  sudo make deps   (or: apt-get install $(DEB_BUILD))" >&2; \
	  exit 1; }

tests: $(B)/gpurun $(UNIT_BIN) $(TOOL_BIN) $(B)/tools/libfault.so
# The sandbox builds its VFCT table and ROM with these (tests/vm/lib.sh).
tools: $(TOOL_BIN)

# The fault-injection library (tests/cli/faults.t) is LD_PRELOAD'ed into gpurun: built without
# the sanitizers even in build-san (an ASan runtime in a preloaded library fights the binary's).
$(B)/tools/libfault.so: tests/fault/libfault.c
	@mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) -std=gnu11 $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

# Unit (cmocka) and fixture-host (TAP shell) tests against the binary in $(B).
#   make check-unit T=test-plan                   one unit binary (builds only that one)
#   make check-unit T=run                         one CLI script, tests/cli/run.t
#   make check-unit T=test-plan C=test_strix      cmocka cases by name: glob patterns, comma-
#   make check-unit C='test_paths_*'              separated; without T, in every unit binary
# C= reaches the binaries as $$GPURUN_TEST_CASE (read by testutil_run in tests/unit/testutil.h).
# T may also be given as a path: tests/cli/run.t, tests/unit/test-plan.c.
T ?=
C ?=
T_NAME := $(basename $(notdir $(T)))
ifneq ($(filter $(B)/tests/$(T_NAME),$(UNIT_BIN)),)
CHECK_UNIT_NEEDS := $(B)/tests/$(T_NAME)
else ifneq ($(C),)
CHECK_UNIT_NEEDS := $(UNIT_BIN)
else ifneq ($(T),)
CHECK_UNIT_NEEDS := $(B)/gpurun $(TOOL_BIN) $(B)/tools/libfault.so
else
CHECK_UNIT_NEEDS := tests
endif
check-unit: $(CHECK_UNIT_NEEDS)
	$(if $(C),GPURUN_TEST_CASE='$(C)' )tests/run-tests $(B) $(T_NAME)

check-sanitize: deps
	$(MAKE) B=build-san CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" check-unit

# The include arrows between launcher/'s layer folders (core/ includes no host/, hostcfg/, cli/;
# host/ and hostcfg/ no cli/; util/ only util/; no unqualified "plan.h") and the module map
# launcher/README.md naming every file. Needs nothing but sh and awk: the first step of check.
check-layers:
	@tests/tools/check-layers

# The fixture regeneration check alone: tests/fixtures/make-hosts into a temporary directory,
# compared with tests/fixtures/hosts/ (tests/cli/fixtures.t runs it too, when python3, cc and
# depmod are installed).
DEB_FIXTURES := python3 build-essential kmod
check-fixtures:
	@tests/tools/ensure-debs $(DEB_FIXTURES)
	tests/tools/check-fixtures

# Real-kernel sandbox (tests/vm): boots the distribution kernel under QEMU/TCG.
check-vm: deps-vm
	$(MAKE) all tools
	tests/vm/run-all $(B)

check: check-layers deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-sanitize
	$(MAKE) format-check
	$(MAKE) check-fuzz
	$(MAKE) check-vm

# The release check, run before each submission (README): `make demo` and `make check` as a
# newcomer runs them, in a freshly bootstrapped Debian 12 chroot with a clone of the committed
# HEAD. Too slow for `make check` and CI. FRESH_ARGS="--cache /var/tmp/bookworm.tgz --keep".
check-fresh:
	@tests/tools/ensure-debs debootstrap git
	tests/tools/fresh-machine --log $(B)/fresh-machine.log $(FRESH_ARGS)

# DEB_BUILD builds the binary; DEB_TEST is what the tests run (the fuzzers need libclang-rt-dev;
# without systemd, man-db, kmod, swtpm and python3 some fixture checks would only SKIP; the
# firmware boot test converts OVMF with qemu-img).
DEB_BUILD := build-essential pkg-config libvirt-dev libxml2-dev libpci-dev libkmod-dev libjson-c-dev
DEB_TEST  := libcmocka-dev clang clang-format libvirt-clients libxml2-utils pciutils jq \
             qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools kmod man-db systemd libclang-rt-dev python3 \
             libvirt-daemon libvirt-daemon-driver-qemu
DEB_VM    := qemu-system-x86 swtpm linux-image-amd64 busybox-static cpio ovmf libvirt-daemon-system jq \
             socat virtinst iproute2
deps:
	@tests/tools/ensure-debs $(DEB_BUILD) $(DEB_TEST)
deps-vm:
	@tests/tools/ensure-debs $(DEB_VM)

demo: deps deps-vm
	$(MAKE) all tools
	tests/vm/demo $(B)

bench: all
	bench/run $(B)

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 30
# The command layer needs main.c's globals: fuzz targets link the engine only.
FUZZ_LIB_SRC := $(filter-out launcher/cli/%.c,$(LIB_SRC))
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(HDRS) | build-deps-present
	@mkdir -p $(@D)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -Ilauncher \
	  -DGPURUN_VERSION='"$(VERSION)"' -DGPURUN_DATADIR='""' -D_GNU_SOURCE \
	  -o $@ $< $(FUZZ_LIB_SRC) $(PKG_LIBS)
fuzz: deps
	$(MAKE) $(FUZZ_TARGETS)
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)
CHECK_FUZZ_SECONDS ?= 15
check-fuzz: deps
	$(MAKE) $(FUZZ_TARGETS)
	tests/fuzz/run $(CHECK_FUZZ_SECONDS) $(FUZZ_TARGETS)

FORMAT_FILES = $(wildcard launcher/*/*.[ch] tests/unit/*.[ch] tests/tools/*.c tests/fuzz/*.c \
                 tests/fault/*.c)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: ok"

# The man pages in man/ name the data directory as it is with PREFIX=/usr (/usr/share/gpurun),
# so they read well in the source tree; the installed copies (made in $(B)/man at install time)
# name $(DATADIR)/gpurun, where this install puts the profiles, templates and contrib files.
MAN_PAGES := gpurun.8 gpurun.profile.5
install: all
	install -Dm755 $(B)/gpurun $(DESTDIR)$(BINDIR)/gpurun
	@mkdir -p $(B)/man
	for m in $(MAN_PAGES); do \
		sed -e 's|/usr/share/gpurun|$(DATADIR)/gpurun|g' man/$$m >$(B)/man/$$m || exit 1; \
	done
	install -Dm644 $(B)/man/gpurun.8 $(DESTDIR)$(MANDIR)/man8/gpurun.8
	install -Dm644 $(B)/man/gpurun.profile.5 $(DESTDIR)$(MANDIR)/man5/gpurun.profile.5
	install -Dm644 contrib/bash-completion/gpurun $(DESTDIR)$(BASHCOMPDIR)/gpurun
	install -d $(DESTDIR)$(DATADIR)/gpurun/xml-templates $(DESTDIR)$(DATADIR)/gpurun/profiles
	for f in xml-templates/*.xml profiles/*.profile; do \
		if [ -f "$$f" ]; then install -m644 "$$f" $(DESTDIR)$(DATADIR)/gpurun/$$f || exit 1; fi; \
	done
	install -Dm755 contrib/libvirt-hook/qemu $(DESTDIR)$(DATADIR)/gpurun/contrib/libvirt-hook/qemu
	install -Dm755 contrib/proxmox/gpurun-hookscript \
		$(DESTDIR)$(DATADIR)/gpurun/contrib/proxmox/gpurun-hookscript
	install -Dm644 contrib/systemd/gpurun@.service \
		$(DESTDIR)$(DATADIR)/gpurun/contrib/systemd/gpurun@.service
	for d in libvirt-hook proxmox systemd; do \
		install -m644 contrib/$$d/README.md $(DESTDIR)$(DATADIR)/gpurun/contrib/$$d/README.md || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gpurun $(DESTDIR)$(MANDIR)/man8/gpurun.8 \
	      $(DESTDIR)$(MANDIR)/man5/gpurun.profile.5 $(DESTDIR)$(BASHCOMPDIR)/gpurun
	rm -rf $(DESTDIR)$(DATADIR)/gpurun

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
