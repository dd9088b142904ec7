/* SPDX-License-Identifier: MIT */
/* Which backend serves a call: forced by TETHER_BACKEND or the API, else the kernel's. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BACKEND_UNSET (-1)

static _Atomic int backend_forced = BACKEND_UNSET;

static enum tether_backend backend_from_env(void)
{
	const char *v = secure_getenv("TETHER_BACKEND");

	if (v && strcmp(v, "native") == 0)
		return TETHER_BACKEND_NATIVE;
	if (v && strcmp(v, "emulate") == 0)
		return TETHER_BACKEND_EMULATE;
	return TETHER_BACKEND_AUTO; /* unset, "auto", or a value we do not know */
}

_public_ enum tether_backend tether_get_backend(void)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	int b = atomic_load_explicit(&backend_forced, memory_order_relaxed);

	if (b == BACKEND_UNSET) {
		int expected = BACKEND_UNSET;
		b = (int)backend_from_env();
		if (!atomic_compare_exchange_strong(&backend_forced, &expected, b))
			b = expected;
	}
	return (enum tether_backend)b;
}

_public_ int tether_set_backend(enum tether_backend backend)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	if (backend != TETHER_BACKEND_AUTO && backend != TETHER_BACKEND_NATIVE &&
	    backend != TETHER_BACKEND_EMULATE)
		return -EINVAL;
	atomic_store(&backend_forced, (int)backend);
	return 0;
}

static unsigned int features_for_flags(uint64_t flags)
{
	unsigned int need = 0;

	if (flags & CLONE_AUTOREAP)
		need |= TETHER_FEATURE_AUTOREAP;
	if (flags & CLONE_NNP)
		need |= TETHER_FEATURE_NNP;
	if (flags & CLONE_PIDFD_AUTOKILL)
		need |= TETHER_FEATURE_AUTOKILL;
	return need;
}

enum tether_backend backend_resolve(uint64_t clone_flags)
{
	enum tether_backend b = tether_get_backend();

	if (b != TETHER_BACKEND_AUTO)
		return b;
	/* Mixing is not worth its complexity: one missing flag emulates the call. */
	return feature_has(features_for_flags(clone_flags)) ? TETHER_BACKEND_NATIVE
							    : TETHER_BACKEND_EMULATE;
}

_public_ enum tether_backend tether_backend_for(__u64 clone_flags)
{
	PRESERVE_ERRNO;
	NO_CANCELLATION;
	if (!(clone_flags & TETHER_CLONE_FLAGS))
		return TETHER_BACKEND_NATIVE;
	return backend_resolve(clone_flags);
}

_public_ const char *tether_backend_name(enum tether_backend backend)
{
	PRESERVE_ERRNO;
	switch (backend) {
	case TETHER_BACKEND_AUTO:
		return "auto";
	case TETHER_BACKEND_NATIVE:
		return "native";
	case TETHER_BACKEND_EMULATE:
		return "emulate";
	}
	return NULL;
}
