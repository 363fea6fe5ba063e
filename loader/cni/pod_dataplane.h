// cni/pod_dataplane.h — what xwg-cni does to the node (PodBackend): a pod joins the data
// plane of an xwg interface that is up, through that interface's pins
// (/sys/fs/bpf/xwg/IF/): its addresses go into `pods` (xwg_rx delivers decrypted packets
// for them straight into the veth), xwg_pod_tx, loaded on the interface's own maps, goes
// on the TC ingress of the veth's node end, and the pod's end gets the offloads the fast
// path needs: segmentation and checksum offloads off (finished packets, as the tunnel
// device's visible end), GRO on (so it takes frames XDP redirects into its peer).
#pragma once

#include "loader/cni/cni_plugin.h"

#include <string>

namespace xwg::cni {

class PodDataplane final : public PodBackend {
public:
	// @pin_root: where xwg pins interfaces' maps (XWG_PIN_ROOT; tests may differ).
	explicit PodDataplane(std::string pin_root) : pin_root_(std::move(pin_root)) {}

	bool is_host_veth(const std::string &name) override;
	void add(const Env &env, const NetConf &conf, const PodLink &link) override;
	void del(const Env &env, const NetConf &conf, const std::optional<PodLink> &link) override;
	void check(const Env &env, const NetConf &conf, const PodLink &link) override;

private:
	std::string pin_dir(const NetConf &conf) const { return pin_root_ + "/" + conf.interface; }
	std::string pin_root_;
};

// The program's name as the kernel keeps it: what DEL and CHECK look for on a veth.
inline constexpr const char *POD_TX_PROG = "xwg_pod_tx";

} // namespace xwg::cni
