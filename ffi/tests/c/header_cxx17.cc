// The header compiles on its own as C++17 (-std=c++17 -Wall -Wextra -Wpedantic -Werror).
#include "mcpauth.h"
#include "mcpauth.h"
static_assert(sizeof(mcpauth_status) == sizeof(int32_t), "mcpauth_status is 32 bits");
static_assert(MCPAUTH_STATUS_OK == 0, "OK is 0");
int mcpauth_header_cxx17_check();
int mcpauth_header_cxx17_check() {
    mcpauth_status s = MCPAUTH_STATUS_NULL_ARGUMENT;
    return static_cast<int>(s);
}
