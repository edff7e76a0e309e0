#ifndef GHOSTPORT_CHIREDIS_SHIM_H
#define GHOSTPORT_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
