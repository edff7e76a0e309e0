// Everything is inline in include/cprefetch.h; SwiftPM needs one source file per C target.
#include "cprefetch.h"
