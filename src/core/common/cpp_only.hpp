// Compile-time wall: no translation unit of src/core may see a PostgreSQL header.
// (No include guard on purpose: every inclusion checks again.)

#if defined(PG_LEARN_CORE_TU) && (defined(POSTGRES_H) || defined(PG_CONFIG_H) || defined(FMGR_H))
static_assert(false, "src/core must not include PostgreSQL headers");
#endif
