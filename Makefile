# PGXS build of the pg_learn extension: the core and the glue in one shared library.
EXTENSION = pg_learn
MODULE_big = pg_learn
# The version is the control file's default_version (the one place it is written).
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" pg_learn.control)
# The install script of the current version is built from the fragments in src/sql (one per SQL
# area, in name order). As pgvector does, only the current install script is shipped, with the
# chain of hand-written, immutable upgrade scripts src/sql/upgrade/pg_learn--A--B.sql (outside
# the fragments' wildcard): an older install reaches the current version by ALTER EXTENSION
# pg_learn UPDATE.
SQL_PARTS = $(sort $(wildcard src/sql/[0-9][0-9]_*.sql))
DATA_built = pg_learn--$(EXTVERSION).sql
DATA = $(sort $(wildcard src/sql/upgrade/pg_learn--*--*.sql))

CORE_SRCS = $(sort $(shell find src/core -name '*.cpp'))
GLUE_SRCS = $(sort $(shell find src/pg -name '*.cpp'))
OBJS = $(CORE_SRCS:.cpp=.o) $(GLUE_SRCS:.cpp=.o)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=pg_learn

PG_CONFIG ?= pg_config
# -fno-semantic-interposition: calls inside the library go direct (and small functions inline)
# instead of through the PLT; nothing interposes on the extension's own symbols.
PG_CXXFLAGS += -std=c++17 -Wno-register -Isrc -MMD -MP -O2 -fno-semantic-interposition
# -lm: without it exp/log/pow stay unversioned and bind to glibc's oldest versions (the SVID
# compatibility wrappers, exp@GLIBC_2.2.5), half again the cost of exp itself per call.
SHLIB_LINK += -lstdc++ -lm

# make SANITIZE=1: the extension built with AddressSanitizer and UBSan, for a server started with
# the ASan runtime preloaded (scripts/test --sanitize, docs/testing.md). Build it in a copy of
# the tree: its objects replace the normal ones.
ifdef SANITIZE
PG_CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=address,undefined
endif

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# LLVM bitcode for JIT inlining must see the same C++ flags.
# Without -MMD: it would overwrite the .o's dependency file with one naming the .bc as target,
# and a changed header would then not rebuild the .o.
COMPILE.cxx.bc = $(CLANG) -xc++ -Wno-ignored-attributes $(BITCODE_CXXFLAGS) $(CPPFLAGS) $(filter-out -MMD -MP,$(PG_CXXFLAGS)) -emit-llvm -c

# The per-row loops of learning and scoring at -O3 (GCC never reorders a floating-point sum
# without -ffast-math, so results are unchanged to the bit).
# (Target-specific flags go to CXXFLAGS: PGXS folds PG_CXXFLAGS into it with :=, so a
# target-specific PG_CXXFLAGS would never reach the compiler.)
src/core/models/linear/linear_model.o: override CXXFLAGS += -O3

# The core's compile-time wall against PostgreSQL headers (src/core/common/cpp_only.hpp).
$(CORE_SRCS:.cpp=.o): override CXXFLAGS += -DPG_LEARN_CORE_TU

pg_learn--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

-include $(OBJS:.o=.d)

EXTRA_CLEAN = $(OBJS:.o=.d)

# A bitcode file is as stale as its object file (whose dependency file lists the headers).
$(foreach o,$(OBJS),$(eval $(o:.o=.bc): $(o)))
