// staticnet/report/api.hpp: how the PNG reports' functions are defined.
//
// Header-only (the default without CMake, and staticnet::header_only): they
// are inline, defined in report/impl/*.hpp, which the report headers include.
// Compiled (STATICNET_COMPILED_REPORTS, set by staticnet::staticnet when it
// was built with cairo): the headers only declare them; libstaticnet defines
// them once (src/report/report.cpp, STATICNET_DEFINE_REPORTS), so a program
// neither parses cairo's headers nor compiles the drawing code.
#pragma once

#if defined(STATICNET_COMPILED_REPORTS) && STATICNET_COMPILED_REPORTS
#define STATICNET_REPORT_HEADER_ONLY 0
#define STATICNET_REPORT_API
#else
#define STATICNET_REPORT_HEADER_ONLY 1
#define STATICNET_REPORT_API inline
#endif
