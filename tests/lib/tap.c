/* SPDX-License-Identifier: MIT */
/* The harness is header-only; this file gives the static library an object. */
#include "tap.h"
