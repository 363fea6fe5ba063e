// cni/cni_plugin.cpp — see cni_plugin.h.
#include "loader/cni/cni_plugin.h"

namespace xwg::cni {

int run(const Env &env, const std::string &stdin_text, std::string &out, PodBackend &backend)
{
	if (env.command == Command::version) {
		out = version_result();
		return 0;
	}
	std::string version;
	try {
		const NetConf conf = parse_netconf(stdin_text, env.command);
		version = conf.cni_version;
		auto is_veth = [&](const std::string &name) {
			return backend.is_host_veth(name);
		};
		switch (env.command) {
		case Command::add:
			backend.add(env, conf,
				    parse_prev_result(*conf.prev_result, env.ifname, is_veth));
			out = add_result(conf);
			return 0;
		case Command::check:
			backend.check(env, conf,
				      parse_prev_result(*conf.prev_result, env.ifname, is_veth));
			out.clear();
			return 0;
		case Command::del: {
			// A result the runtime cached may be missing or stale: DEL then finds the
			// pod by its owner in the map alone.
			std::optional<PodLink> link;
			if (conf.prev_result) {
				try {
					link = parse_prev_result(*conf.prev_result, env.ifname,
								 is_veth);
				} catch (const Error &) {
				}
			}
			backend.del(env, conf, link);
			out.clear();
			return 0;
		}
		case Command::version:
			break;
		}
		out = version_result();
		return 0;
	} catch (const Error &e) {
		out = error_result(version, e.code(), e.what(), e.details());
	} catch (const std::exception &e) {
		out = error_result(version, KERNEL_FAILURE, e.what());
	}
	return 1;
}

} // namespace xwg::cni
