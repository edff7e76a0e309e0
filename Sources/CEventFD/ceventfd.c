// Everything is inline in include/ceventfd.h; SwiftPM needs one source file per C target.
#include "ceventfd.h"
