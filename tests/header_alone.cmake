# cmake -DCOMPILER=... -DFLAGS=... -DHEADER=staticnet/x.hpp -DWORK=dir -P header_alone.cmake
# The header must compile on its own (included first, twice: include guards),
# warning-free under -Werror (as Boost.Mp11's per-header tests).
string(MAKE_C_IDENTIFIER "${HEADER}${TAG}" id)
set(src "${WORK}/${id}.cpp")
file(WRITE "${src}" "#include <${HEADER}>\n#include <${HEADER}>\nint main() { return 0; }\n")
execute_process(COMMAND ${COMPILER} ${FLAGS} -fsyntax-only ${src}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "<${HEADER}> does not compile on its own with ${COMPILER}:\n${out}${err}")
endif()
