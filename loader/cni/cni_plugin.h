// cni/cni_plugin.h — one run of xwg-cni: environment and stdin in, stdout and an exit code
// out, the kernel work behind an interface (pod_dataplane.h in the binary, a fake in the
// unit tests).
#pragma once

#include "loader/cni/cni_protocol.h"

#include <optional>
#include <string>

namespace xwg::cni {

// What ADD, DEL and CHECK do to the node. Every method throws Error on failure.
class PodBackend {
public:
	virtual ~PodBackend() = default;
	// Whether a node-side interface named so (in prevResult, without a sandbox) is a
	// pod's veth end rather than the bridge.
	virtual bool is_host_veth(const std::string &name) = 0;
	// Registers the pod in the data plane of conf.interface and attaches the fast path;
	// all or nothing.
	virtual void add(const Env &env, const NetConf &conf, const PodLink &link) = 0;
	// Removes every trace of the pod; @link when prevResult was given and readable.
	// Succeeds when there is nothing (left) to remove.
	virtual void del(const Env &env, const NetConf &conf,
			 const std::optional<PodLink> &link) = 0;
	// Throws Error NOT_REGISTERED unless what add() made is all there.
	virtual void check(const Env &env, const NetConf &conf, const PodLink &link) = 0;
};

// Runs the command of @env on @stdin_text; writes the result or error object to @out and
// returns the exit status (0 or 1).
int run(const Env &env, const std::string &stdin_text, std::string &out, PodBackend &backend);

} // namespace xwg::cni
