#ifndef GHOSTPORT_CPCAP_SHIM_H
#define GHOSTPORT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
