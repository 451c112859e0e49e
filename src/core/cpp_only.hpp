// Compile-time wall: nothing in src/core may see a PostgreSQL header.
#pragma once

#if defined(POSTGRES_H) || defined(PG_CONFIG_H) || defined(FMGR_H)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif
