// reassembled_lab.h — datagrams as the daemon's UDP socket hands them over when the kernel
// reassembled a data message from fragments, for ReassembledReceiver's test and bench.
#pragma once

#include "dataplane_lab.h"
#include "loader/device/receive_reassembled.h"

namespace xwgtest {

// A data message from the lab's peer (IPv4 endpoint) with @counter around @inner, as
// received on interface @ifindex.
inline xwg::UdpSockets::Datagram reassembled_datagram(DataplaneLab &lab, uint64_t counter,
						      const Bytes &inner, unsigned ifindex)
{
	xwg::UdpSockets::Datagram d;
	d.data = data_message(DataplaneLab::kIndex, counter, lab.recv_key, inner);
	d.from.addr.family = xwg::ip_family_v4;
	std::memcpy(d.from.addr.bytes.data(), lab.peer4.bytes.data(), 4);
	d.from.port = DataplaneLab::kPeerPort;
	d.to.family = xwg::ip_family_v4;
	std::memcpy(d.to.bytes.data(), lab.local4.bytes.data(), 4);
	d.ifindex = ifindex;
	return d;
}

} // namespace xwgtest
