# shmkv: a shared-memory key-value daemon, its client and their tests.
#
#   make          build build/shmkvd, build/shmkv and build/unit_tests
#   make run      install what is missing, build, run shmkvd on 127.0.0.1:4444
#   make test     install what is missing, build, run every test (T=name: one)
#   make lint     check the man pages, and --help against them
#   make SANITIZE=1 ...   the same with ASan and UBSan, in build/sanitize

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Wpedantic -Iinclude -MMD -MP
LDLIBS   := -lsimdjson -lfmt -lrt -lpthread

BUILD := build
ifeq ($(SANITIZE),1)
BUILD := build/sanitize
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

# Debian packages the build and the tests need; `make deps` installs the
# missing ones, and does nothing when all are there.
PACKAGES := g++ make libboost1.81-dev libfmt-dev doctest-dev libsimdjson-dev \
            libsystemd-dev python3 mandoc procps

LIB_SRCS  := $(filter-out src/shmkvd.cpp src/shmkv.cpp,$(wildcard src/*.cpp))
LIB_OBJS  := $(LIB_SRCS:src/%.cpp=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard test/unit/*.cpp)
UNIT_OBJS := $(UNIT_SRCS:test/unit/%.cpp=$(BUILD)/obj/unit/%.o)
PROGRAMS  := $(BUILD)/shmkvd $(BUILD)/shmkv

.PHONY: all run test deps lint clean
all: $(PROGRAMS) $(BUILD)/unit_tests

$(BUILD)/libshmkv.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/shmkvd: $(BUILD)/obj/shmkvd.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/shmkv: $(BUILD)/obj/shmkv.o $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJS) $(BUILD)/libshmkv.a
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: src/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/obj/unit/%.o: test/unit/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/shmkvd.d $(BUILD)/obj/shmkv.d

deps:
	@missing=$$(for p in $(PACKAGES); do \
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

test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) test/run-tests $(T)

lint: deps
	@$(MAKE) --no-print-directory $(PROGRAMS)
	BUILD=$(BUILD) test/check-docs

clean:
	rm -rf build
