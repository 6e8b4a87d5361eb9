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
PKGS      := libxml-2.0 libpci libkmod
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

.PHONY: build-deps-present all check check-unit check-sanitize check-vm fuzz bench demo install uninstall \
        format format-check clean deps deps-vm tests tools check-fresh

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

$(B)/tests/%: tests/unit/%.c $(B)/libgpurun.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -Itests/unit -o $@ $< $(B)/libgpurun.a $(PKG_LIBS) $(CMOCKA_LIBS) $(LDFLAGS)

$(B)/tools/%: tests/tools/%.c $(B)/libgpurun.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(B)/libgpurun.a $(PKG_LIBS) $(LDFLAGS)

# Compiler flags come from pkg-config when this Makefile is read: a target that installs the
# packages first (check, demo) builds in a sub-make, and a plain `make` on a machine without them
# stops here with the command that installs them.
build-deps-present:
	@pkg-config --exists libvirt $(PKGS) || { \
	  echo "gpurun: the build packages are missing (pkg-config finds no libvirt/libxml-2.0/libpci/libkmod)." >&2; \
	  echo "gpurun: install them with:  sudo make deps   (or: apt-get install $(DEB_BUILD))" >&2; \
	  exit 1; }

tests: $(B)/gpurun $(UNIT_BIN) $(TOOL_BIN)
# The sandbox builds its VFCT table and ROM with these (tests/vm/lib.sh).
tools: $(TOOL_BIN)

# Unit (cmocka) and fixture-host (TAP shell) tests against the binary in $(B).
check-unit: tests
	tests/run-tests $(B)

check-sanitize: deps
	$(MAKE) B=build-san CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" check-unit

# Real-kernel sandbox (tests/vm): boots the distribution kernel under QEMU/TCG.
check-vm: deps-vm
	$(MAKE) all tools
	tests/vm/run-all $(B)

check: deps
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
# without systemd, man-db, kmod, swtpm and python3 some fixture checks would only SKIP).
DEB_BUILD := build-essential pkg-config libvirt-dev libxml2-dev libpci-dev libkmod-dev
DEB_TEST  := libcmocka-dev clang clang-format libvirt-clients libxml2-utils pciutils jq \
             qemu-system-x86 ovmf swtpm kmod man-db systemd libclang-rt-dev python3
DEB_VM    := qemu-system-x86 swtpm linux-image-amd64 busybox-static cpio ovmf libvirt-daemon-system jq \
             socat virtinst
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

FORMAT_FILES = $(wildcard launcher/*/*.[ch] tests/unit/*.[ch] tests/tools/*.c tests/fuzz/*.c)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: ok"

install: all
	install -Dm755 $(B)/gpurun $(DESTDIR)$(BINDIR)/gpurun
	install -Dm644 man/gpurun.8 $(DESTDIR)$(MANDIR)/man8/gpurun.8
	install -Dm644 man/gpurun.profile.5 $(DESTDIR)$(MANDIR)/man5/gpurun.profile.5
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
