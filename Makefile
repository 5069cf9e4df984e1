# bullwatch: one non-recursive Makefile.
#   make                 build build/bullwatch
#   make test            unit + integration tests (real redis-server, real BullMQ)
#   make check           unit tests only (Check)
#   make demo            throwaway redis + real BullMQ workload + agent + live view
#   make deps            install missing Debian packages (root) or print what to install
#   make SANITIZER=address,undefined test    the same under ASan/UBSan
#   make WERROR=1        warnings are errors (CI)

CC       ?= cc
BUILD    ?= build
V        ?= 0
WERROR   ?= 0
SANITIZER ?=

PKGS     := hiredis libcurl libcjson sqlite3 openssl ncursesw libmicrohttpd
CSTD     := -std=c11 -D_XOPEN_SOURCE=700 -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wwrite-strings -Wformat=2 -Wvla -Wundef -Wno-format-nonliteral
OPT      ?= -O2 -g
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -MMD -MP -Iagent -Ialerts -Itui -I$(BUILD)
LDLIBS_ALL := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lhiredis -lcurl -lcjson -lsqlite3 -lssl -lcrypto -lncursesw -lmicrohttpd) -lm
# CI (CI=true) builds with -Werror
ifeq ($(CI),true)
WERROR := 1
endif
ifeq ($(WERROR),1)
CFLAGS_ALL += -Werror
endif
ifneq ($(SANITIZER),)
CFLAGS_ALL += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZER)
endif
CFLAGS_ALL += $(CFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

CORE_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(wildcard alerts/*.c) $(wildcard tui/*.c)
CORE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRC)) $(BUILD)/sql_embed.o
MAIN_OBJ := $(BUILD)/agent/main.o
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRC))
SQL_FILES := $(sort $(wildcard sql/schema/*.sql) $(wildcard sql/stmt/*.sql) $(wildcard sql/queries/*.sql)) $(wildcard agent/lua/*.lua)

.PHONY: all check test test-unit test-it demo deps clean bench install uninstall
all: $(BUILD)/bullwatch

$(BUILD)/bullwatch: $(MAIN_OBJ) $(BUILD)/libcore.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libcore.a: $(CORE_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/sql_embed.c: $(SQL_FILES) scripts/embed_sql.sh Makefile
	@mkdir -p $(BUILD)
	@echo "  EMBED   $@"
	$(Q)sh scripts/embed_sql.sh $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/sql_embed.o: $(BUILD)/sql_embed.c
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/check_bullwatch: $(UNIT_OBJ) $(BUILD)/libcore.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL) $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

check test-unit: $(BUILD)/check_bullwatch
	$(Q)$(BUILD)/check_bullwatch

# The README's test command: installs what is missing (scripts/deps.sh),
# builds, then runs the unit tests and the integration tests against a real
# redis-server and real BullMQ 5.71.0 and 6.7.0 (tests/package.json).
test: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bullwatch $(BUILD)/check_bullwatch
	$(Q)BUILD=$(BUILD) bash tests/run.sh

test-it: $(BUILD)/bullwatch
	$(Q)BUILD=$(BUILD) UNIT=0 bash tests/run.sh

# The README's first command: installs what is missing, builds, runs the demo.
demo: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bullwatch
	$(Q)BUILD=$(BUILD) bash scripts/demo.sh

deps:
	$(Q)bash scripts/deps.sh

# Benchmarks (not part of the tests): bench/run.sh starts its own
# redis-server and prints one table with the machine's context.
BENCH_BIN := $(BUILD)/bench/preload $(BUILD)/bench/drain $(BUILD)/bench/pollbench $(BUILD)/bench/evalbench
$(BUILD)/bench/%: bench/%.c $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libcore.a $(LDLIBS_ALL)

bench: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bullwatch $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) bash bench/run.sh

# make install PREFIX=/usr/local DESTDIR=: the binary, bullwatch(1) and
# bullwatch.ini(5), an example config (and /etc/bullwatch/agent.ini when
# there is none, its store in the service's state directory), the systemd
# unit and bash completion. make uninstall removes them (not the config).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man
DOCDIR     := $(PREFIX)/share/doc/bullwatch
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
INSTALLED  := $(BINDIR)/bullwatch $(MANDIR)/man1/bullwatch.1 $(MANDIR)/man5/bullwatch.ini.5 \
              $(DOCDIR)/agent.ini.example $(UNITDIR)/bullwatch.service $(COMPDIR)/bullwatch

install: $(BUILD)/bullwatch
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(SYSCONFDIR)/bullwatch
	install -m 755 $(BUILD)/bullwatch $(DESTDIR)$(BINDIR)/bullwatch
	install -m 644 dist/bullwatch.1 $(DESTDIR)$(MANDIR)/man1/bullwatch.1
	install -m 644 dist/bullwatch.ini.5 $(DESTDIR)$(MANDIR)/man5/bullwatch.ini.5
	install -m 644 agent.ini $(DESTDIR)$(DOCDIR)/agent.ini.example
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' dist/bullwatch.service \
	    > $(DESTDIR)$(UNITDIR)/bullwatch.service && chmod 644 $(DESTDIR)$(UNITDIR)/bullwatch.service
	install -m 644 dist/bullwatch.bash-completion $(DESTDIR)$(COMPDIR)/bullwatch
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/bullwatch/agent.ini ]; then \
	    sed 's|^path = bullwatch.db|path = /var/lib/bullwatch/bullwatch.db|' agent.ini \
	        > $(DESTDIR)$(SYSCONFDIR)/bullwatch/agent.ini && \
	    chmod 644 $(DESTDIR)$(SYSCONFDIR)/bullwatch/agent.ini && \
	    echo "  installed $(SYSCONFDIR)/bullwatch/agent.ini (store in /var/lib/bullwatch)"; \
	else echo "  kept $(SYSCONFDIR)/bullwatch/agent.ini"; fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Fuzzing (libFuzzer): tests/fuzz/fuzz_<target>.c against the core library
# built with clang, ASan and UBSan in build-fuzz/. `make fuzz` runs every
# target for FUZZ_SECONDS (a working corpus in build-fuzz/corpus/, seeded
# from the committed tests/fuzz/corpus/<target>/), then every committed
# crash input (tests/fuzz/crashes/<target>/*) as a regression test;
# `make fuzz-regress` only the latter.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
.PHONY: fuzz fuzz-build fuzz-regress fuzz-core

# (a phony step, not a rule for $(FUZZ_BUILD)/libcore.a: inside the sub-make
# that is $(BUILD)/libcore.a, and a second rule for it would recurse)
fuzz-core:
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SANITIZER= \
	    OPT="-O1 -g" CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libcore.a

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h fuzz-core
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(CSTD) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -Iagent -Ialerts -Itests/fuzz \
	    -o $@ $< $(FUZZ_BUILD)/libcore.a $(LDLIBS_ALL)

# the script-reply harness brings its own rconn (a fake fed by the input)
$(FUZZ_BUILD)/libcore-norconn.a: fuzz-core
	$(Q)cp $(FUZZ_BUILD)/libcore.a $@.tmp && ar d $@.tmp rconn.o && mv $@.tmp $@

$(FUZZ_BUILD)/fuzz_dlqreply: tests/fuzz/fuzz_dlqreply.c tests/fuzz/fuzz_util.h $(FUZZ_BUILD)/libcore-norconn.a
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(CSTD) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -Iagent -Ialerts -Itests/fuzz \
	    -o $@ $< $(FUZZ_BUILD)/libcore-norconn.a $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BINS)

fuzz-regress: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do \
	    set -- $$(find tests/fuzz/corpus/$$t tests/fuzz/crashes/$$t -type f 2>/dev/null); \
	    [ $$# -gt 0 ] || continue; \
	    echo "  REGRESS $$t ($$# inputs)"; \
	    $(FUZZ_BUILD)/fuzz_$$t "$$@" >$(FUZZ_BUILD)/regress_$$t.log 2>&1 || \
	        { tail -30 $(FUZZ_BUILD)/regress_$$t.log; exit 1; }; \
	done

fuzz: fuzz-build
	$(Q)for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts/$$t; \
	    echo "  FUZZ    $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t/ $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
	        $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1 || \
	        { tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; echo "fuzz: $$t failed; input in $(FUZZ_BUILD)/artifacts/$$t/"; exit 1; }; \
	    grep -h "stat::number_of_executed_units" $(FUZZ_BUILD)/fuzz_$$t.log | sed "s/^/        $$t /"; \
	done
	$(Q)$(MAKE) --no-print-directory fuzz-regress

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
