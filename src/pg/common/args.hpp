// Arguments of a SQL function call as C++ strings (read under pg_guard: a detoast can fail).
#pragma once

#include "pg/common/glue.hpp"

#include <string>

namespace pg_learn::pg {

// A text argument's bytes.
std::string text_arg_string(FunctionCallInfo fcinfo, int argno);
// A jsonb argument as JSON text.
std::string jsonb_arg_text(FunctionCallInfo fcinfo, int argno);

}  // namespace pg_learn::pg
