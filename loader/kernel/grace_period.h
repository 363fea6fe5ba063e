// kernel/grace_period.h — waiting for a kernel RCU grace period from userspace: afterwards,
// every XDP and TC program that was running has finished (they run in RCU read sections),
// so none still uses what was taken out of use before. There is no syscall for it; the
// update of an array of maps returns only after synchronize_rcu(), so one is kept for it.
#pragma once

namespace xwg {

class GracePeriod {
public:
	// Creates the two small maps; throws std::runtime_error when the kernel refuses.
	GracePeriod();
	~GracePeriod();
	GracePeriod(const GracePeriod &) = delete;
	GracePeriod &operator=(const GracePeriod &) = delete;

	// Returns after a grace period (~10 ms); false (errno set) when the update failed.
	bool wait();

private:
	int inner_fd_ = -1;
	int outer_fd_ = -1;
};

} // namespace xwg
