#include "pg/common/args.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace pg_learn::pg {

std::string text_arg_string(FunctionCallInfo fcinfo, int argno) {
    std::string out;
    pg_guard([&]() {
        text* t = PG_GETARG_TEXT_PP(argno);
        out.assign(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
    return out;
}

std::string jsonb_arg_text(FunctionCallInfo fcinfo, int argno) {
    std::string out;
    pg_guard([&]() {
        Jsonb* j = PG_GETARG_JSONB_P(argno);
        char* s = JsonbToCString(nullptr, &j->root, VARSIZE(j));
        out.assign(s);
        pfree(s);
    });
    return out;
}

}  // namespace pg_learn::pg
