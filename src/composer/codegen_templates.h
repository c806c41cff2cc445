// Text of the files `generate` writes, with @NAME@ placeholders (see generate.cpp).
#pragma once

namespace ia::codegen {

// One generated program (<program>.cpp).
extern const char* const kProgramSource;
// The CMake project that builds every generated program against the installed library.
extern const char* const kProjectCMake;

}  // namespace ia::codegen
