# shmkv: a shared-memory key-value daemon, its client and their tests.
#
#   make          build build/shmkvd, build/shmkv, build/shmkv-bench, build/unit_tests,
#                 build/libshmkv.so (local readers), the examples and the test helpers
#   make examples build the C++ example, build/examples/client
#   make run      install what is missing, build, run shmkvd on 127.0.0.1:4444
#   make test     install what is missing, build, run every test (T=name: one)
#   make lint     check the man pages, --help against them, and the units
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (30) seconds
#   make bench    shmkvd next to Redis and the original server; writes
#                 bench/results/latest.md
#   make bench-store  the store alone, in-process: bytes per key, 1M/1K GET ratio
#                 (bench/store_microbench.cpp)
#   make install  install under PREFIX (/usr/local), staged in DESTDIR: the
#                 programs, man pages, units, and libshmkv.so with its headers
#   make SANITIZE=1 ...   the same with ASan and UBSan, in build/sanitize
#
# Sources: src/daemon (shmkvd), src/cli (shmkv), src/loadgen (shmkv-bench),
# each with its main.cpp, over what they share: src/common, src/protocol,
# src/store and src/client. include/shmkv holds only the library's public
# headers. Every source but the three mains goes into build/libshmkv.a.
# build/libshmkv.so is the local readers' library (src/local, include/shmkv/
# local.h and local.hpp): position-independent objects of their own, only
# the reader, its C ABI and C++ API exported.

# Builds use every core. Make 4.3 does not show a command line's -j here, so
# the top-level make sets it and sub-makes share its job server.
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(shell nproc)
endif

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Wpedantic -MMD -MP
# Every translation unit that instantiates Boost.Interprocess's managed segment
# must agree on this: a restarted daemon must not hang five minutes on a
# segment whose creator died while initialising it, so give up after two seconds.
CPPFLAGS += -Iinclude -Isrc -DBOOST_INTERPROCESS_MANAGED_OPEN_OR_CREATE_INITIALIZE_TIMEOUT_SEC=2u
LDLIBS   := -lsimdjson -lfmt -lsystemd -lxxhash -lrt -lpthread

BUILD := build
ifeq ($(SANITIZE),1)
BUILD := build/sanitize
# -O0: make test always builds this tree, and at -O1 UBSan's checks made
# g++'s optimiser take 2 to 12 times longer (84 s for client.cpp, 36 s for
# workload.cpp, 554 CPU-seconds in all against 248 at -O0), while the
# sanitized tests run in seconds either way. Unoptimised code also turns on
# simdjson's development checks. -g1 gives the line tables that the
# sanitizers' reports need and no more.
CXXFLAGS += -O0 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

# Debian packages the build and the tests need; `make deps` installs the
# missing ones, and does nothing when all are there.
PACKAGES := g++ make libboost1.81-dev libfmt-dev doctest-dev libsimdjson-dev \
            libsystemd-dev libxxhash-dev python3 mandoc man-db procps systemd clang-14 libfuzzer-14-dev \
            strace passwd redis-server redis-tools python3-redis nutcracker prometheus-redis-exporter

MAIN_SRCS := src/daemon/main.cpp src/cli/main.cpp src/loadgen/main.cpp
LIB_SRCS  := $(filter-out $(MAIN_SRCS),$(wildcard src/*/*.cpp))
LIB_OBJS  := $(LIB_SRCS:src/%.cpp=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard test/unit/*.cpp)
UNIT_OBJS := $(UNIT_SRCS:test/unit/%.cpp=$(BUILD)/obj/unit/%.o)
PROGRAMS  := $(BUILD)/shmkvd $(BUILD)/shmkv $(BUILD)/shmkv-bench
# Programs that link the library as a user's would: examples/*.cpp, and the
# shell tests' helpers test/shell/*.cpp; the tests run both.
EXAMPLE_SRCS := $(wildcard examples/*.cpp)
EXAMPLES     := $(EXAMPLE_SRCS:examples/%.cpp=$(BUILD)/examples/%)
HELPER_SRCS  := $(wildcard test/shell/*.cpp)
HELPERS      := $(HELPER_SRCS:test/shell/%.cpp=$(BUILD)/test/%)

PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR := $(PREFIX)/sbin
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
LIBDIR  := $(PREFIX)/lib
INCLUDEDIR := $(PREFIX)/include
UNITDIR := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
UNITS   := shmkvd.service shmkvd.socket

# What make bench needs besides PACKAGES: Redis, to compare with, and perf,
# to count the machine's context switches around each run.
BENCH_PACKAGES := redis-server redis-tools linux-perf

.PHONY: all examples run test deps bench-deps bench bench-store lint clean install uninstall fuzz fuzz-build
all: $(PROGRAMS) $(BUILD)/unit_tests $(EXAMPLES) $(HELPERS) $(BUILD)/store_microbench $(BUILD)/fork-floor \
     $(BUILD)/libshmkv.so

examples: $(EXAMPLES)

$(BUILD)/libshmkv.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

# The shared library's soname carries its ABI's major version; the build
# tree's libshmkv.so.0 link lets programs linked against build/libshmkv.so run.
SO_SRCS  := $(wildcard src/local/*.cpp)
SO_OBJS  := $(SO_SRCS:src/%.cpp=$(BUILD)/pic/%.o)
SO_NAME  := libshmkv.so.0
$(BUILD)/libshmkv.so: $(SO_OBJS)
	$(CXX) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) -Wl,--no-undefined -o $@ $^ -lrt
	ln -sf libshmkv.so $(BUILD)/$(SO_NAME)

$(BUILD)/pic/%.o: src/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -c -o $@ $<

$(BUILD)/shmkvd: $(BUILD)/obj/daemon/main.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/shmkv: $(BUILD)/obj/cli/main.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/shmkv-bench: $(BUILD)/obj/loadgen/main.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJS) $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/store_microbench: $(BUILD)/obj/bench/store_microbench.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The floor of the process-per-connection model, for make bench (bench/fork_floor.cpp).
$(BUILD)/fork-floor: $(BUILD)/obj/bench/fork_floor.o
	$(CXX) $(LDFLAGS) -o $@ $^

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(BUILD)/libshmkv.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(BUILD)/libshmkv.a
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

# The unit tests' own code is compiled unoptimised (-O0 comes last, so it
# wins): it is the library under it, built as everything else, that the
# tests measure, and doctest's and Boost's templates compile about four times
# faster (resp_commands_test.cpp: 18 s at -O2, 4.5 s at -O0).
$(BUILD)/obj/unit/%.o: test/unit/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -O0 -c -o $@ $<

$(BUILD)/obj/bench/%.o: bench/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/obj/examples/%.o: examples/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/obj/test/%.o: test/shell/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(SO_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(MAIN_SRCS:src/%.cpp=$(BUILD)/obj/%.d)
-include $(BUILD)/obj/bench/store_microbench.d $(BUILD)/obj/bench/fork_floor.d
# Objects of the examples and helpers are intermediate files of a chain of
# pattern rules; keeping them means a second make has nothing to do.
.SECONDARY:
-include $(EXAMPLES:$(BUILD)/examples/%=$(BUILD)/obj/examples/%.d) $(HELPERS:$(BUILD)/test/%=$(BUILD)/obj/test/%.d)

# Fuzzing: libFuzzer targets built with clang, ASan and UBSan (any undefined
# behaviour aborts), linked against the library compiled again with clang and
# coverage instrumentation in an object directory of its own, never mixed with
# g++'s objects. `make fuzz FUZZ_SECONDS=N` runs each target N seconds.
FUZZ_CXX      := clang++-14
FUZZ_DIR      := build/fuzz
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CXXFLAGS := -O1 -gline-tables-only -fno-omit-frame-pointer -std=c++20 -Wall -Wextra $(CPPFLAGS) -MMD -MP \
                 $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link
FUZZ_SECONDS  ?= 30
# The targets exercise what answers a request, over what that needs; the
# rest of the library (sockets, processes, the client) is not compiled again.
FUZZ_LIB_SRCS := $(wildcard src/common/*.cpp src/protocol/*.cpp src/store/*.cpp) \
                 $(wildcard src/resp/*.cpp) src/daemon/dispatch.cpp src/daemon/scoreboard.cpp \
                 src/daemon/snapshotter.cpp src/local/image.cpp
FUZZ_OBJS     := $(FUZZ_LIB_SRCS:src/%.cpp=$(FUZZ_DIR)/obj/%.o)
FUZZ_SRCS     := $(wildcard test/fuzz/*_fuzz.cpp)
FUZZ_TARGETS  := $(FUZZ_SRCS:test/fuzz/%.cpp=$(FUZZ_DIR)/%)

fuzz-build: $(FUZZ_TARGETS)

$(FUZZ_DIR)/libshmkv.a: $(FUZZ_OBJS)
	$(AR) rcs $@ $^

$(FUZZ_TARGETS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/target/%.o $(FUZZ_DIR)/libshmkv.a
	$(FUZZ_CXX) $(FUZZ_SANITIZE) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_DIR)/obj/%.o: src/%.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c -o $@ $<

$(FUZZ_DIR)/target/%.o: test/fuzz/%.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c -o $@ $<

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_SRCS:test/fuzz/%.cpp=$(FUZZ_DIR)/target/%.d)

deps: PKGS := $(PACKAGES)
bench-deps: PKGS := $(BENCH_PACKAGES)
deps bench-deps:
	@missing=$$(for p in $(PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# deps runs before the build; a plain `make` assumes the packages are there.
run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/shmkvd --bind 127.0.0.1 --port 4444

# make test also builds with ASan and UBSan, and runs the unit tests and one
# shell scenario against the sanitized programs (skipped with T=name). The
# fuzz targets are built with everything else unless T names another test.
test: deps
	@$(MAKE) --no-print-directory test-builds
	@BUILD=$(BUILD) SANITIZED_BUILD=$(if $(T),,$(if $(filter 1,$(SANITIZE)),,build/sanitize)) test/run-tests $(T)

# The builds make test runs against, side by side under one job server.
.PHONY: test-builds test-build-plain test-build-sanitized
test-builds: test-build-plain $(if $(T)$(filter 1,$(SANITIZE)),,test-build-sanitized)
test-build-plain:
	@$(MAKE) --no-print-directory all $(if $(filter-out fuzz,$(T)),,fuzz-build)
test-build-sanitized:
	@$(MAKE) --no-print-directory SANITIZE=1 $(PROGRAMS:$(BUILD)/%=build/sanitize/%) build/sanitize/unit_tests

# bench starts its own shmkvd, redis-server and the original Python server
# (bench/original_server.py) on free loopback ports; it takes a few minutes
# and writes bench/results/latest.md (see bench/compare-servers).
# BENCH_FLAGS passes options on: BENCH_FLAGS="--baseline DIR" runs the
# shmkvd built in DIR beside this one.
bench: deps bench-deps
	@$(MAKE) --no-print-directory $(PROGRAMS) $(BUILD)/fork-floor
	BUILD=$(BUILD) bench/compare-servers $(BENCH_FLAGS)

# bench-store measures the store in-process (bench/store_microbench.cpp): a
# minute or two, no servers, nothing written.
bench-store: deps
	@$(MAKE) --no-print-directory $(BUILD)/store_microbench
	$(BUILD)/store_microbench

lint: deps
	@$(MAKE) --no-print-directory $(PROGRAMS)
	BUILD=$(BUILD) test/check-docs

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@test/fuzz/run-fuzzers $(FUZZ_DIR) $(FUZZ_SECONDS)

# The local readers' headers: local.hpp includes the other two.
LOCAL_HEADERS := include/shmkv/local.h include/shmkv/local.hpp include/shmkv/status.hpp

install: $(PROGRAMS) $(BUILD)/libshmkv.so
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/shmkv
	install -m 0644 $(BUILD)/libshmkv.so $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libshmkv.so
	install -m 0644 $(LOCAL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/shmkv/
	install -m 0755 $(BUILD)/shmkvd $(DESTDIR)$(SBINDIR)/shmkvd
	install -m 0755 $(BUILD)/shmkv $(DESTDIR)$(BINDIR)/shmkv
	install -m 0755 $(BUILD)/shmkv-bench $(DESTDIR)$(BINDIR)/shmkv-bench
	for page in man/*.[178]; do install -m 0644 $$page $(DESTDIR)$(MANDIR)/man$${page##*.}/; done
	for u in $(UNITS); do sed 's|@SBINDIR@|$(SBINDIR)|' examples/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 examples/shmkvd.sysusers $(DESTDIR)$(SYSUSERSDIR)/shmkvd.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/shmkvd $(DESTDIR)$(BINDIR)/shmkv $(DESTDIR)$(BINDIR)/shmkv-bench
	rm -f $(DESTDIR)$(SYSUSERSDIR)/shmkvd.conf
	rm -f $(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libshmkv.so
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/shmkv/,$(notdir $(LOCAL_HEADERS)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	for page in man/*.[178]; do rm -f $(DESTDIR)$(MANDIR)/man$${page##*.}/$${page#man/}; done

clean:
	rm -rf build
