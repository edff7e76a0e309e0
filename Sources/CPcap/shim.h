#ifndef GHOSTPORT_CPCAP_SHIM_H
#define GHOSTPORT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/filter.h>
#endif
