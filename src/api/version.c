/* SPDX-License-Identifier: MIT */
#include "internal.h"

/* From meson.build's project version, through the generated <tether-version.h>. */
_public_ const char *tether_version(void)
{
	PRESERVE_ERRNO;
	return TETHER_VERSION_STRING;
}
