// device/daemon_metrics.h — the daemon's side of metrics (control/metrics.h): the snapshot
// of its interface, taken from the Device, the data plane's maps and what is attached to
// the underlays now; the HTTP endpoint when `MetricsListen` is set; and the file of the
// daemon's own counters (/run/xwg/IFNAME.counters) that `xwg show --metrics` reads,
// since only the daemon knows them. The file is rewritten once a second when they changed
// (counting the staged packets walks every peer), so it lags the HTTP endpoint by at most
// that.
#pragma once

#include "loader/control/metrics.h"
#include "loader/control/metrics_server.h"
#include "loader/types/ip_prefix.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xwg {

class Device;
class Dataplane;

// /run/xwg/IFNAME.counters
std::string counters_file_path(const std::string &ifname);

// The receive path attached to an underlay now, as `xwg show` prints it: "xdp native",
// "xdp generic", "tc" or "none" (also for a device that is gone).
std::string receive_path_now(const std::string &device);

class DaemonMetrics {
public:
	// Serves @listen when given (throws std::runtime_error when it cannot be bound) and
	// writes the counters file.
	DaemonMetrics(std::string ifname, const Device &device, const Dataplane &dp,
		      std::vector<std::string> underlays, const std::optional<Endpoint> &listen);
	~DaemonMetrics(); // the server closed, the counters file removed
	DaemonMetrics(const DaemonMetrics &) = delete;
	DaemonMetrics &operator=(const DaemonMetrics &) = delete;

	// The server's pollable fd, -1 without MetricsListen.
	int fd() const { return server_ ? server_->fd() : -1; }
	// Serves what is ready on fd(); never blocks.
	void service();
	// At each timer tick (100 ms): every COUNTERS_FILE_TICKS, the counters file follows
	// the counters.
	void tick();
	static constexpr unsigned COUNTERS_FILE_TICKS = 10;
	MetricsSnapshot snapshot() const;

private:
	void write_counters(const DeviceCounters &c);

	std::string ifname_;
	const Device &device_;
	const Dataplane &dp_;
	std::vector<std::string> underlays_;
	std::unique_ptr<MetricsServer> server_;
	std::optional<DeviceCounters> written_; // what the counters file says
	unsigned ticks_ = 0;
};

} // namespace xwg
