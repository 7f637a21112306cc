#ifndef REEL_CPOSTGRES_SHIM_H
#define REEL_CPOSTGRES_SHIM_H
// libpq's client API. Only ReelDB imports this module.
#include <libpq-fe.h>
#endif
