// cni/cni_protocol.h — the CNI specification 1.0.0 as xwg-cni speaks it, without the
// kernel: the environment (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, ...), the
// network configuration on stdin, what a chained plugin learns from prevResult, and the
// JSON written to stdout (the result passed through, VERSION's answer, error objects with
// the spec's codes). cni_plugin.h runs a command on top of it.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xwg::cni {

// The spec's well-known error codes (SPEC.md, "Error"); 100 and up are the plugin's own.
enum ErrorCode : int {
	INCOMPATIBLE_VERSION = 1,
	UNSUPPORTED_FIELD = 2,
	UNKNOWN_CONTAINER = 3,
	INVALID_ENVIRONMENT = 4,
	IO_FAILURE = 5,
	DECODE_FAILURE = 6,
	INVALID_CONFIG = 7,
	TRY_AGAIN_LATER = 11,
	// xwg-cni's own:
	LAYOUT_MISMATCH = 100, // the running xwg was built with other maps than xwg-cni
	ADDRESS_IN_USE = 101,  // another pod's entry holds one of this pod's addresses
	NOT_REGISTERED = 102,  // CHECK: the pod's entries or program are missing
	KERNEL_FAILURE = 103,  // a map write or an attachment the kernel refused
};

// A failure reported to the runtime as an error object.
class Error : public std::runtime_error {
public:
	Error(int code, const std::string &msg, std::string details = "")
		: std::runtime_error(msg), code_(code), details_(std::move(details))
	{
	}
	int code() const { return code_; }
	const std::string &details() const { return details_; }

private:
	int code_;
	std::string details_;
};

// The versions whose configuration and result xwg-cni reads (the result's shape is the
// same from 0.3.0 on); CHECK exists from 0.4.0.
inline constexpr const char *SUPPORTED_VERSIONS[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
inline constexpr const char *PLUGIN_VERSION = "1.0.0";

enum class Command { add, del, check, version };

struct Env {
	Command command = Command::version;
	std::string container_id; // CNI_CONTAINERID
	std::string netns;	  // CNI_NETNS (may be empty for DEL)
	std::string ifname;	  // CNI_IFNAME: the pod's interface
	std::string args;	  // CNI_ARGS
	std::string path;	  // CNI_PATH
};

// Reads the CNI_* variables through @get (getenv in the binary). Throws Error
// INVALID_ENVIRONMENT naming the variable that is missing or wrong for the command.
Env read_env(const std::function<const char *(const char *)> &get);

struct NetConf {
	std::string cni_version;
	std::string name;
	std::string interface; // the xwg interface whose data plane the pods join
	std::optional<nlohmann::json> prev_result;
};

// Parses the configuration on stdin for @command. Throws Error DECODE_FAILURE (not JSON),
// INVALID_CONFIG (a field missing or of the wrong type, no prevResult for ADD/CHECK),
// INCOMPATIBLE_VERSION (a cniVersion this plugin does not speak, or CHECK before 0.4.0).
NetConf parse_netconf(const std::string &text, Command command);

// An address of the pod: IPv4 in the first 4 bytes.
struct PodAddress {
	int family = 4; // 4 or 6
	std::array<std::uint8_t, 16> addr{};
	bool operator==(const PodAddress &) const = default;
};
std::string to_string(const PodAddress &a);

using Mac = std::array<std::uint8_t, 6>;

// What a chained plugin learns from prevResult.
struct PodLink {
	std::string host_ifname; // the pod veth's end on the node
	std::optional<Mac> host_mac;
	std::string pod_ifname; // inside the pod's namespace (CNI_IFNAME)
	Mac pod_mac{};
	std::vector<PodAddress> addresses;
};

// Finds, in a prevResult: the pod's interface (CNI_IFNAME with a sandbox), its MAC and
// addresses (those of ips[] naming that interface, or every one when none names any), and
// the node end of its veth: the interface without a sandbox that @is_host_veth accepts
// (the bridge has no sandbox either). Throws Error INVALID_CONFIG saying what is missing.
PodLink parse_prev_result(const nlohmann::json &prev, const std::string &ifname,
			  const std::function<bool(const std::string &)> &is_host_veth);

// "aa:bb:cc:dd:ee:ff" (either case); nullopt if it is not a MAC.
std::optional<Mac> parse_mac(const std::string &text);

// What ADD prints: prevResult under the configuration's cniVersion.
std::string add_result(const NetConf &conf);
// What VERSION prints.
std::string version_result();
// An error object (code, msg, details) under @cni_version (PLUGIN_VERSION if empty).
std::string error_result(const std::string &cni_version, int code, const std::string &msg,
			 const std::string &details = "");

// The pod's identity in the map (struct xwg_pod::owner): container id and interface,
// hashed (FNV-1a, 64 bits), never 0.
std::uint64_t pod_owner(const std::string &container_id, const std::string &ifname);

} // namespace xwg::cni
