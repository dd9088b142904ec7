/* SPDX-License-Identifier: MIT */
#include "internal.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

_public_ const char *tether_version(void)
{
	PRESERVE_ERRNO;
	return STRINGIFY(TETHER_VERSION_MAJOR) "." STRINGIFY(TETHER_VERSION_MINOR) "." STRINGIFY(
		TETHER_VERSION_PATCH);
}
