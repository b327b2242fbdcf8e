/* The header compiles on its own as C11 (-std=c11 -Wall -Wextra -Wpedantic -Werror). */
#include "mcpauth.h"
#include "mcpauth.h"
int mcpauth_header_c11_check(void);
int mcpauth_header_c11_check(void) { return (int)sizeof(mcpauth_status); }
